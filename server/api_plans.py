"""The session plan's routes: the templates to start from (GET /api/templates) and a
session's plan as a file to keep (GET /f/{id}/plan.json, facilitator key). A plan file
posted back to POST /api/workshops starts a new session (server/plan_args.py)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from server.api import NO_STORE, whole_session
from server.language import request_language
from server.plan_args import plan_file
from server.plan_templates import templates


async def list_templates(request: Request) -> Response:
    """Every template in the visitor's language (?lang= wins, as on the pages)."""
    return JSONResponse({"templates": templates(request_language(request))},
                        headers={"Cache-Control": "public, max-age=300",
                                 "Vary": "Accept-Language"})


async def download_plan(request: Request) -> Response:
    session = await whole_session(request)
    if isinstance(session, Response):
        return session
    room, activities = session
    body = plan_file(room, [entry for entry, _ in activities],
                     [r["workshop"]["settings"] for _, r in activities])
    return Response(orjson.dumps(body, option=orjson.OPT_INDENT_2),
                    media_type="application/json",
                    headers={"content-disposition": 'attachment; filename="samenspel-opzet.json"',
                             **NO_STORE})


def plan_routes() -> list[BaseRoute]:
    return [
        Route("/api/templates", list_templates, methods=["GET"]),
        Route("/f/{id}/plan.json", download_plan, methods=["GET"]),
    ]

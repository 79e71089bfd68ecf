"""The JSON and file routes: create, export, erase, health."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from server.errors import DomainError, error_body, pick_language
from server.exports import export_csv, export_data, export_markdown
from server.rules import clean_workshop
from server.store import STORE_ERRORS, Store

CREATE_WINDOW = 3600
MAX_BODY = 32 * 1024


def request_language(request: Request) -> str:
    lang = request.query_params.get("lang")
    if lang:
        return pick_language(lang)
    accept = request.headers.get("accept-language", "")
    return pick_language(accept.split(",")[0].strip()) if accept else "nl"


def error(code: str, status: int, lang: str, **params: Any) -> JSONResponse:
    return JSONResponse(error_body(code, lang, **params), status_code=status)


def facilitator_key(request: Request, workshop_id: str) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.query_params.get("key") or request.cookies.get(f"sf_{workshop_id}")


async def authorize(request: Request) -> str | Response:
    """The workshop id when the request carries its facilitator key; else an error."""
    store: Store = request.app.state.store
    lang = request_language(request)
    workshop_id = request.path_params["id"]
    if not await store.meta(workshop_id):
        return error("no_workshop", 404, lang)
    limiter = request.app.state.limiter
    address = request.client.host if request.client else None
    if await limiter.count("fail", address) >= request.app.state.settings.failures_per_minute:
        return error("too_many_attempts", 429, lang)
    if await store.check_key(workshop_id, facilitator_key(request, workshop_id), view=False):
        return str(workshop_id)
    await limiter.hit("fail", address, 60)
    return error("wrong_key", 401, lang)


async def create_workshop(request: Request) -> Response:
    lang = request_language(request)
    settings = request.app.state.settings
    address = request.client.host if request.client else None
    body = await request.body()
    if len(body) > MAX_BODY:
        return error("frame_too_large", 413, lang)
    try:
        clean = clean_workshop(orjson.loads(body))
    except orjson.JSONDecodeError:
        return error("malformed", 400, lang)
    except DomainError as err:
        return JSONResponse({"error": err.body(lang)}, status_code=400)
    made = await request.app.state.limiter.hit("create", address, CREATE_WINDOW)
    if made > settings.creates_per_hour:
        return error("too_many_attempts", 429, lang)
    created = await request.app.state.store.create_workshop(clean)
    wid, code = created["id"], created["code"]
    created["urls"] = {
        "facilitator": f"/f/{wid}?key={created['facilitator_key']}",
        "projector": f"/p/{wid}?key={created['view_key']}",
        "join": f"/join?code={code}",
    }
    return JSONResponse(created, status_code=201)


async def _room(request: Request, workshop_id: str) -> dict[str, Any] | None:
    room: dict[str, Any] | None = await request.app.state.store.load(workshop_id)
    return room


async def export(request: Request) -> Response:
    who = await authorize(request)
    if isinstance(who, Response):
        return who
    room = await _room(request, who)
    if room is None:
        return error("no_workshop", 404, request_language(request))
    fmt = request.path_params["fmt"]
    if fmt not in ("json", "csv", "md"):
        return error("no_workshop", 404, request_language(request))
    name = f"samenspel-{room['workshop']['code']}"
    if fmt == "json":
        return Response(
            orjson.dumps(export_data(room), option=orjson.OPT_INDENT_2),
            media_type="application/json",
            headers={"content-disposition": f'attachment; filename="{name}.json"'},
        )
    if fmt == "csv":
        return Response(
            "\ufeff" + export_csv(room), media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )
    return PlainTextResponse(
        export_markdown(room, request_language(request)), media_type="text/markdown; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}.md"'},
    )


async def erase(request: Request) -> Response:
    who = await authorize(request)
    if isinstance(who, Response):
        return who
    await request.app.state.store.erase(who)
    await request.app.state.hub.publish({"type": "erased", "workshop": who})
    response = Response(status_code=204)
    response.delete_cookie(f"sf_{who}", path="/")
    return response


async def rotate(request: Request) -> Response:
    who = await authorize(request)
    if isinstance(who, Response):
        return who
    fresh = await request.app.state.store.rotate_keys(who)
    await request.app.state.hub.publish({"type": "keys_rotated", "workshop": who})
    fresh["urls"] = {"facilitator": f"/f/{who}?key={fresh['facilitator_key']}",
                     "projector": f"/p/{who}?key={fresh['view_key']}"}
    return JSONResponse(fresh)


HEALTH_SECONDS = 0.8  # a frozen store must not make a health check hang


async def healthz(request: Request) -> Response:
    try:
        ok = await asyncio.wait_for(request.app.state.store.ping(), HEALTH_SECONDS)
    except (*STORE_ERRORS, TimeoutError):
        ok = False
    return JSONResponse({"ok": ok}, status_code=200 if ok else 503)


def api_routes() -> list[BaseRoute]:
    return [
        Route("/api/workshops", create_workshop, methods=["POST"]),
        Route("/api/workshops/{id}/export.{fmt:str}", export, methods=["GET"]),
        Route("/api/workshops/{id}", erase, methods=["DELETE"]),
        Route("/api/workshops/{id}/keys", rotate, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]

"""The JSON and file routes: create, export, erase, health."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from server import metrics
from server.admission import Admission
from server.args import clean_workshop
from server.control import Erased, KeysRotated
from server.errors import DomainError, error_body
from server.exports import export_csv, export_markdown, export_session
from server.language import request_language
from server.rendering import join_path
from server.room import Room
from server.security import STAFF_COOKIE_PREFIXES, is_json
from server.store import STORE_ERRORS, Store

CREATE_WINDOW = 3600
MAX_BODY = 32 * 1024
WORKSHOP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what server.store.new_id makes
# Answers that hold keys or a workshop's content: no cache (browser, proxy) may keep them.
NO_STORE = {"Cache-Control": "no-store"}


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
    admission: Admission = request.app.state.admission
    address = request.client.host if request.client else None
    if await admission.limited(address):
        metrics.rate_limited("attempts")
        return error("too_many_attempts", 429, lang)
    if await store.check_key(workshop_id, facilitator_key(request, workshop_id), view=False):
        return str(workshop_id)
    await admission.failed(address)
    return error("wrong_key", 401, lang)


async def create_workshop(request: Request) -> Response:
    lang = request_language(request)
    settings = request.app.state.settings
    address = request.client.host if request.client else None
    if not is_json(request.headers):  # (a given Content-Type was checked by SameOriginWrites)
        return error("json_only", 415, lang)
    body = await request.body()
    if len(body) > MAX_BODY:
        return error("frame_too_large", 413, lang)
    try:
        clean = clean_workshop(orjson.loads(body), lang)
    except orjson.JSONDecodeError:
        return error("malformed", 400, lang)
    except DomainError as err:
        return JSONResponse({"error": err.body(lang)}, status_code=400)
    made = await request.app.state.limiter.hit("create", address, CREATE_WINDOW)
    if made > settings.creates_per_hour:
        metrics.rate_limited("creates")
        return error("too_many_attempts", 429, lang)
    created = await request.app.state.store.create_workshop(clean, settings.code_odds)
    wid, code = created["id"], created["code"]
    created["urls"] = {
        "facilitator": f"/f/{wid}?key={created['facilitator_key']}",
        "projector": f"/p/{wid}?key={created['view_key']}",
        "join": join_path(code, created["join_secret"]),
    }
    return JSONResponse(created, status_code=201, headers=NO_STORE)


async def whole_session(
        request: Request) -> Response | tuple[Room, list[tuple[dict[str, Any], Room]]]:
    """For a facilitator's download: the room and every activity of its plan in order,
    or the Response that refuses (no key, no workshop)."""
    workshop_id = await authorize(request)
    if isinstance(workshop_id, Response):
        return workshop_id
    room, activities = await request.app.state.store.load_activities(workshop_id)
    if room is None:
        return error("no_workshop", 404, request_language(request))
    return room, activities


async def export(request: Request) -> Response:
    session = await whole_session(request)
    if isinstance(session, Response):
        return session
    room, activities = session
    fmt = request.path_params["fmt"]
    if fmt not in ("json", "csv", "md"):
        return error("no_workshop", 404, request_language(request))
    name = f"samenspel-{room['workshop']['code']}"
    titled = [(entry["title"], one) for entry, one in activities]  # the plan, in order
    if fmt == "json":
        return Response(
            orjson.dumps(export_session(room, activities), option=orjson.OPT_INDENT_2),
            media_type="application/json",
            headers={"content-disposition": f'attachment; filename="{name}.json"', **NO_STORE},
        )
    if fmt == "csv":
        return Response(
            "\ufeff" + export_csv(room, titled), media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"', **NO_STORE},
        )
    return PlainTextResponse(
        export_markdown(room, request_language(request), titled),
        media_type="text/markdown; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}.md"', **NO_STORE},
    )


def forget_cookies(request: Request, response: Response, workshop_id: str) -> None:
    """Tell the browser to drop its staff cookies of this workshop (control and wall)."""
    for prefix in STAFF_COOKIE_PREFIXES:
        response.delete_cookie(
            f"{prefix}{workshop_id}", path="/", httponly=True, samesite="strict",
            secure=request.url.scheme == "https",
        )


async def erase(request: Request) -> Response:
    workshop_id = await authorize(request)
    if isinstance(workshop_id, Response):
        return workshop_id
    await request.app.state.store.erase(workshop_id)
    await request.app.state.hub.publish(Erased(workshop_id))
    response = Response(status_code=204)
    forget_cookies(request, response, workshop_id)
    return response


async def forget(request: Request) -> Response:
    """"Dit apparaat vergeten": this browser drops its staff cookies of the workshop (they
    are HttpOnly, so only the server can). No key needed: a stale cookie (of keys rotated
    since) must go too, and a page of this site is the only one let through (the same
    origin rule as every state-changing request)."""
    workshop_id = request.path_params["id"]
    if not WORKSHOP_ID.fullmatch(workshop_id):
        return error("no_workshop", 404, request_language(request))
    response = Response(status_code=204, headers=NO_STORE)
    forget_cookies(request, response, workshop_id)
    return response


async def rotate(request: Request) -> Response:
    workshop_id = await authorize(request)
    if isinstance(workshop_id, Response):
        return workshop_id
    try:
        fresh = await request.app.state.store.rotate_keys(workshop_id)
    except DomainError as err:  # erased since the key was checked: nothing to rotate
        return error(err.code, 404, request_language(request))
    await request.app.state.hub.publish(KeysRotated(workshop_id))
    code = (await request.app.state.store.meta(workshop_id)).get("code", "")
    fresh["urls"] = {"facilitator": f"/f/{workshop_id}?key={fresh['facilitator_key']}",
                     "projector": f"/p/{workshop_id}?key={fresh['view_key']}",
                     "join": join_path(code, fresh["join_secret"])}
    return JSONResponse(fresh, headers=NO_STORE)


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
        Route("/api/workshops/{id}/forget", forget, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]

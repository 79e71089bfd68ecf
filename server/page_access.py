"""Who may open a page: a join code within the failure limits (server/admission.py, the
same policy as for the socket and the API), and a staff key, given once in the URL and
then kept in an HttpOnly cookie per workshop and screen."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.admission import Admission
from server.error_pages import error_page
from server.ids import is_code

STAFF_COOKIES = {"facilitator": "sf_", "projector": "sp_"}
_REFUSED_MESSAGES = {
    "too_many_attempts": "error.too_many", "guessing_paused": "error.guessing_paused"}


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _admission(request: Request) -> Admission | None:
    admission: Admission | None = getattr(request.app.state, "admission", None)
    return admission


async def address_blocked(request: Request) -> bool:
    admission = _admission(request)
    return admission is not None and await admission.limited(_address(request))


async def count_failure(request: Request, *, guess: bool = False) -> None:
    admission = _admission(request)
    if admission is not None:
        await admission.failed(_address(request), guess=guess)


async def code_refused(request: Request) -> str | None:
    """Why a typed code may not be tried now: "too_many_attempts" (this address) or
    "guessing_paused" (everyone), or None."""
    admission = _admission(request)
    return await admission.refused_code(_address(request)) if admission else None


def json_field(meta: dict[str, str], field: str, default: Any) -> Any:
    try:
        return json.loads(meta[field])
    except (KeyError, TypeError, ValueError):
        return default


async def open_workshop(request: Request, code: str) -> dict[str, str] | None:
    """The meta of the workshop that this join code opens, or None (unknown or closed)."""
    store = request.app.state.store
    if not is_code(code):
        return None
    workshop_id = await store.workshop_for_code(code)
    if not workshop_id:
        return None
    meta: dict[str, str] = await store.meta(workshop_id)
    if not meta or meta.get("phase") == "closed":
        return None
    return meta


async def admit_code(
    request: Request, code: str, lang: str
) -> tuple[dict[str, str] | None, str | None, Response | None]:
    """The open workshop of a code and its join secret, or the page that says no (a typed
    code over the limits, or an unknown code). A right typed code gets the secret too:
    whoever typed it may come back (a reload, a reconnect) past the limits, as the QR
    code's link does; it lets nobody guess another code."""
    meta = await open_workshop(request, code)
    if meta is not None and await request.app.state.store.check_join_secret(
            meta["id"], request.query_params.get("s")):
        return meta, meta.get("jkey"), None
    refused = await code_refused(request)
    if refused:
        page = error_page(request, 429, _REFUSED_MESSAGES[refused], lang=lang, show_join=True,
                          code=code)
        return None, None, page
    if meta is None:
        await count_failure(request, guess=True)
        page = error_page(request, 404, "error.no_code", lang=lang, show_join=True, code=code)
        return None, None, page
    return meta, meta.get("jkey"), None


def keep_staff_key(request: Request, response: Response, cookie_name: str, key: str) -> None:
    """The key of a URL, kept in an HttpOnly cookie for the workshop's life."""
    response.set_cookie(
        cookie_name, key, max_age=int(request.app.state.settings.retention_days * 24 * 3600),
        path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https",
    )


async def staff_cookie_key(request: Request, workshop_id: str, role: str) -> str | None:
    """The key in this screen's cookie; the wall also opens with the facilitator's."""
    view = role == "projector"
    names = [STAFF_COOKIES[role] + workshop_id] + (
        [STAFF_COOKIES["facilitator"] + workshop_id] if view else [])
    for name in names:
        given = request.cookies.get(name)
        if given and await request.app.state.store.check_key(workshop_id, given, view=view):
            return given
    return None


async def staff_key_given(request: Request, workshop_id: str) -> bool:
    """The request carries this workshop's view or facilitator key (cookie, ?key= or
    bearer)."""
    auth = request.headers.get("authorization", "")
    given = [
        request.cookies.get(STAFF_COOKIES["projector"] + workshop_id),
        request.cookies.get(STAFF_COOKIES["facilitator"] + workshop_id),
        request.query_params.get("key"),
        auth[7:].strip() if auth.lower().startswith("bearer ") else None,
    ]
    store = request.app.state.store
    for key in given:
        if key and await store.check_key(workshop_id, key, view=True):
            return True
    return False

"""The HTML pages: landing, join, phone, control screen, wall, and the QR code.

Each screen is one route, one template and one JS entry module of the same name
(`participant`, `facilitator`, `projector`, `landing`). A page renders its static words
with Jinja (autoescaped) and hands its modules a config JSON: the catalogue of its
language, the workshop's ids, and for staff screens the key that opens the socket.
A key in a URL is swapped at once for an HttpOnly cookie and a redirect without it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import i18n, qr
from server.admission import Admission
from server.api import join_path
from server.limits import PAGE_LIMITS
from server.store import is_code

STAFF_COOKIES = {"facilitator": "sf_", "projector": "sp_"}


# ------------------------------------------------------------------ helpers
def page_language(
    request: Request, workshop_lang: str | None = None, fallback: str | None = None
) -> str:
    """Staff screens pass the workshop's language as `workshop_lang` (before the
    browser's); the phone passes it as `fallback` (after the browser's)."""
    return i18n.pick(
        request.query_params.get("lang"),
        request.cookies.get(i18n.LANG_COOKIE),
        workshop_lang,
        request.headers.get("accept-language"),
        fallback,
    )


def base_url(request: Request) -> str:
    """The absolute base that phones use: PUBLIC_URL, else what this request came to."""
    public: str | None = request.app.state.settings.public_url
    if public:
        return public.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


def join_url(request: Request, code: str, join_secret: str | None = None) -> str:
    """The absolute join link; with the join secret, the QR code's link."""
    if join_secret:
        return base_url(request) + join_path(code, join_secret)
    return f"{base_url(request)}/join?{urlencode({'code': code})}"


def render(
    request: Request,
    template: str,
    lang: str,
    *,
    config: dict[str, Any] | None = None,
    status: int = 200,
    private: bool = False,
    **context: Any,
) -> Response:
    """A page in `lang`: `t` for its words, and `config` (with the catalogue) for its JS."""
    page_config = {"lang": lang, "i18n": i18n.catalogue(lang), "limits": PAGE_LIMITS,
                   **(config or {})}
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        template,
        {
            "t": i18n.translator(lang),
            "lang": lang,
            "nonce": getattr(request.state, "csp_nonce", ""),
            "config": page_config,
            **context,
        },
        status_code=status,
    )
    if private:
        # The page carries a key in its config: never keep it in a cache.
        response.headers["Cache-Control"] = "no-store"
    else:
        response.headers.setdefault("Cache-Control", "no-cache")
    remember_language(request, response)
    return response


def remember_language(request: Request, response: Response) -> None:
    """A language chosen with ?lang= holds for the next pages of this browser."""
    chosen = request.query_params.get("lang")
    if chosen in ("nl", "en"):
        response.set_cookie(
            i18n.LANG_COOKIE, chosen, max_age=365 * 24 * 3600, path="/", samesite="lax",
            secure=request.url.scheme == "https",
        )


def error_page(
    request: Request,
    status: int,
    message_key: str,
    *,
    lang: str | None = None,
    show_join: bool = False,
    code: str = "",
    retry_seconds: int = 0,
) -> Response:
    """The one friendly error page (also for the app's own 404 and 500 handlers)."""
    lang = lang or page_language(request)
    return render(
        request, "error.html", lang, status=status, config={"page": "error"},
        message_key=message_key, show_join=show_join, code=code, retry_seconds=retry_seconds,
        title_key=(f"error.title.{status}" if status in (401, 404, 429, 503)
                   else "error.title.other"),
    )


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


STORE_RETRY_SECONDS = 10


async def store_unavailable(request: Request, exc: Exception) -> Response:
    """The store is down, frozen or full (STORE_ERRORS): the calm "even geduld" page with
    503, which reloads itself; a JSON call gets `try_again`. Nothing is logged as a crash:
    it is a known state, and the supervisor or the operator brings the store back."""
    headers = {"Retry-After": str(STORE_RETRY_SECONDS)}
    if request.url.path.startswith("/api/") and "/export." not in request.url.path:
        from server.api import error
        from server.security import request_language

        response: Response = error("try_again", 503, request_language(request))
    else:
        # page_language only: the workshop's own language cannot be read now.
        response = error_page(request, 503, "error.store", retry_seconds=STORE_RETRY_SECONDS)
    response.headers.update(headers)
    return response


async def _address_blocked(request: Request) -> bool:
    admission: Admission | None = getattr(request.app.state, "admission", None)
    return admission is not None and await admission.limited(_address(request))


async def _count_failure(request: Request, *, guess: bool = False) -> None:
    admission: Admission | None = getattr(request.app.state, "admission", None)
    if admission is not None:
        await admission.failed(_address(request), guess=guess)


async def _code_refused(request: Request) -> str | None:
    """Why a typed code may not be tried now: "too_many_attempts" (this address) or
    "guessing_paused" (everyone), or None."""
    admission: Admission | None = getattr(request.app.state, "admission", None)
    return await admission.refused_code(_address(request)) if admission else None


_REFUSED_MESSAGES = {
    "too_many_attempts": "error.too_many", "guessing_paused": "error.guessing_paused"}


async def _admit_code(
    request: Request, code: str, lang: str
) -> tuple[dict[str, str] | None, str | None, Response | None]:
    """The open workshop of a code and its join secret, or the page that says no (a typed
    code over the limits, or an unknown code). A right typed code gets the secret too:
    whoever typed it may come back (a reload, a reconnect) past the limits, as the QR
    code's link does; it lets nobody guess another code."""
    meta = await _open_workshop(request, code)
    if meta is not None and await request.app.state.store.check_join_secret(
            meta["id"], request.query_params.get("s")):
        return meta, meta.get("jkey"), None
    refused = await _code_refused(request)
    if refused:
        page = error_page(request, 429, _REFUSED_MESSAGES[refused], lang=lang, show_join=True,
                          code=code)
        return None, None, page
    if meta is None:
        await _count_failure(request, guess=True)
        page = error_page(request, 404, "error.no_code", lang=lang, show_join=True, code=code)
        return None, None, page
    return meta, meta.get("jkey"), None


def _json_field(meta: dict[str, str], field: str, default: Any) -> Any:
    try:
        return json.loads(meta[field])
    except (KeyError, TypeError, ValueError):
        return default


def _clean_code(raw: str | None) -> str:
    return "".join(ch for ch in (raw or "") if not ch.isspace())[:12]


async def _open_workshop(request: Request, code: str) -> dict[str, str] | None:
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


# ------------------------------------------------------------------- routes
async def landing(request: Request) -> Response:
    return render(request, "landing.html", page_language(request), config={"page": "landing"})


async def join(request: Request) -> Response:
    """`/join?code=NNNNNN`: on to the phone screen, or a friendly page to try again."""
    raw = request.query_params.get("code")
    lang = page_language(request)
    if raw is None:
        return render(request, "error.html", lang, config={"page": "error"},
                      title_key="join.title", message_key="join.intro", show_join=True, code="")
    code = _clean_code(raw)
    _, secret, refusal = await _admit_code(request, code, lang)
    if refusal is not None:
        return refusal
    target = f"/j/{quote(code)}" + (f"?{urlencode({'s': secret})}" if secret else "")
    response = RedirectResponse(target, status_code=303)
    remember_language(request, response)
    return response


async def participant(request: Request) -> Response:
    code = request.path_params["code"]
    lang = page_language(request)
    meta, secret, refusal = await _admit_code(request, code, lang)
    if refusal is not None or meta is None:
        assert refusal is not None
        return refusal
    settings = _json_field(meta, "settings", {})
    lang = page_language(request, fallback=settings.get("language"))
    config = {
        "page": "participant",
        "code": code,
        "workshop": meta.get("id"),
        "title": meta.get("title", ""),
        "prompts": _json_field(meta, "prompts", []),
        "phase": meta.get("phase", "collect"),
        "perspectives": settings.get("perspectives") or [],
    }
    if secret:
        config["join_secret"] = secret  # sent in the hello: in past the limits on codes
    return render(request, "participant.html", lang, config=config,
                  workshop_title=meta.get("title", ""), private=bool(secret))


async def _staff_page(request: Request, role: str) -> Response:
    """The control screen or the wall: key in the URL → cookie and redirect; else check the
    cookie and render the screen with the key in its config (for the socket's hello)."""
    workshop_id = request.path_params["id"]
    store = request.app.state.store
    view = role == "projector"
    path = f"/{'p' if view else 'f'}/{workshop_id}"
    cookie_name = STAFF_COOKIES[role] + workshop_id
    lang_query = request.query_params.get("lang")
    if await _address_blocked(request):
        return error_page(request, 429, "error.too_many")
    meta: dict[str, str] = await store.meta(workshop_id)
    if not meta:
        await _count_failure(request)
        return error_page(request, 404, "error.no_workshop")
    lang = page_language(request, _json_field(meta, "settings", {}).get("language"))

    key = request.query_params.get("key")
    if key is not None:
        if await store.check_key(workshop_id, key, view=view) is None:
            await _count_failure(request)
            return error_page(request, 401, "error.wrong_key", lang=lang)
        target = path + (f"?{urlencode({'lang': lang_query})}" if lang_query else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            cookie_name, key, max_age=int(request.app.state.settings.retention_days * 24 * 3600),
            path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https",
        )
        response.headers["Cache-Control"] = "no-store"
        remember_language(request, response)
        return response

    # The wall opens with its own view key, or with the facilitator's cookie.
    candidates = [cookie_name] + ([STAFF_COOKIES["facilitator"] + workshop_id] if view else [])
    for name in candidates:
        given = request.cookies.get(name)
        if given and await store.check_key(workshop_id, given, view=view):
            key = given
            break
    if key is None:
        return error_page(request, 401, "error.need_key", lang=lang)

    code = meta.get("code", "")
    api = f"/api/workshops/{workshop_id}"
    config = {
        "page": role,
        "workshop": workshop_id,
        "key": key,
        "code": code,
        "title": meta.get("title", ""),
        "join_url": join_url(request, code, meta.get("jkey")),
        "join_host": base_url(request).split("://", 1)[-1],
        "qr_url": f"{api}/qr.svg",
    }
    if role == "facilitator":
        config["exports"] = {
            "json": f"{api}/export.json", "csv": f"{api}/export.csv", "md": f"{api}/export.md",
            "report": f"/f/{workshop_id}/report",
        }
        config["api"] = api
        config["projector_path"] = f"/p/{workshop_id}"
    template = "projector.html" if view else "facilitator.html"
    return render(request, template, lang, config=config, private=True,
                  workshop_title=meta.get("title", ""), code=code)


async def facilitator(request: Request) -> Response:
    return await _staff_page(request, "facilitator")


async def projector(request: Request) -> Response:
    return await _staff_page(request, "projector")


async def _staff_key_given(request: Request, workshop_id: str) -> bool:
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


async def qr_svg(request: Request) -> Response:
    """The QR code carries the join secret: only for the wall and the control screen."""
    workshop_id = request.path_params["id"]
    meta: dict[str, str] = await request.app.state.store.meta(workshop_id)
    if not meta or not meta.get("code") or not await _staff_key_given(request, workshop_id):
        return Response("", status_code=404, media_type="image/svg+xml")
    return Response(
        qr.svg(join_url(request, meta["code"], meta.get("jkey"))),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},  # it carries the join secret
    )


async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico on pages without an icon link (exports, reports)."""
    return RedirectResponse("/static/icons/favicon.svg", status_code=301)


def page_routes() -> list[BaseRoute]:
    return [
        Route("/favicon.ico", favicon, methods=["GET"], name="favicon"),
        Route("/", landing, methods=["GET"], name="landing"),
        Route("/join", join, methods=["GET"], name="join"),
        Route("/j/{code}", participant, methods=["GET"], name="participant"),
        Route("/f/{id}", facilitator, methods=["GET"], name="facilitator"),
        Route("/p/{id}", projector, methods=["GET"], name="projector"),
        Route("/api/workshops/{id}/qr.svg", qr_svg, methods=["GET"], name="qr"),
    ]

"""The HTML pages: landing, join, phone, control screen, wall, and the QR code.

Each screen is one route, one template and one JS entry module of the same name
(`participant`, `facilitator`, `projector`, `landing`). A page renders its static words
with Jinja (autoescaped) and hands its modules a config JSON: the catalogue of its
language, the workshop's ids, and for staff screens the key that opens the socket.
A key in a URL is swapped at once for an HttpOnly cookie and a redirect without it.

Rendering is server/rendering.py's, the error page server/error_pages.py's, and who may
open a page (codes within the limits, staff keys and cookies) server/page_access.py's.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from server import qr
from server.error_pages import error_page
from server.ids import is_code
from server.lan import is_loopback, lan_urls
from server.language import page_language
from server.page_access import (
    STAFF_COOKIES,
    address_blocked,
    admit_code,
    count_failure,
    json_field,
    keep_staff_key,
    staff_cookie_key,
    staff_key_given,
)
from server.page_plan import plan_position, plan_rows
from server.plan_templates import templates
from server.rendering import base_url, join_url, remember_language, render
from server.rules import DEFAULT_SETTINGS, PHASES

__all__ = ["STAFF_COOKIES", "error_page", "page_routes", "render"]


def _clean_code(raw: str | None) -> str:
    return "".join(ch for ch in (raw or "") if not ch.isspace())[:12]


# ------------------------------------------------------------------- routes
async def landing(request: Request) -> Response:
    """The landing page, with the templates to start from (as GET /api/templates has them)
    drawn in the page: the form below them does not jump down when they come."""
    lang = page_language(request)
    listed = templates(lang)
    return render(request, "landing.html", lang, config={"page": "landing", "templates": listed},
                  templates=listed)


async def join(request: Request) -> Response:
    """`/join?code=NNNNNN`: on to the phone screen, or a friendly page to try again."""
    raw = request.query_params.get("code")
    lang = page_language(request)
    if raw is None:
        return render(request, "error.html", lang, config={"page": "error"},
                      title_key="join.title", message_key="join.intro", show_join=True, code="")
    code = _clean_code(raw)
    _, secret, refusal = await admit_code(request, code, lang)
    if refusal is not None:
        return refusal
    target = f"/j/{quote(code)}" + (f"?{urlencode({'s': secret})}" if secret else "")
    response = RedirectResponse(target, status_code=303)
    remember_language(request, response)
    return response


async def participant(request: Request) -> Response:
    code = request.path_params["code"]
    lang = page_language(request)
    meta, secret, refusal = await admit_code(request, code, lang)
    if refusal is not None or meta is None:
        assert refusal is not None
        return refusal
    settings = json_field(meta, "settings", {})
    lang = page_language(request, fallback=settings.get("language"))
    config = {
        "page": "participant",
        "code": code,
        "workshop": meta.get("id"),
        "title": meta.get("title", ""),
        "prompts": json_field(meta, "prompts", []),
        "phase": meta.get("phase", "collect"),
        "perspectives": settings.get("perspectives") or [],
        # The profile's hint is drawn in the page (no jump while it loads).
        "anonymous": bool(settings.get("anonymous", DEFAULT_SETTINGS["anonymous"])),
    }
    if meta.get("activity"):
        config["activity_id"] = meta["activity"]  # the draft's key, before the welcome
    if secret:
        config["join_secret"] = secret  # sent in the hello: in past the limits on codes
    return render(request, "participant.html", lang, config=config, timer=_timer_shown(meta),
                  workshop_title=meta.get("title", ""), private=bool(secret),
                  plan_position=plan_position(meta, lang))


async def receipt(request: Request) -> Response:
    """`/j/{code}/mijn`: "what became of my notes", also after the session. A shell: the
    page reads the participant's token from the device's localStorage and sends it in the
    socket's hello, so no token is ever in a URL (docs/decisions.md). It asks the store
    nothing, so it says nothing about which codes exist, and works for a closed workshop."""
    code = request.path_params["code"]
    lang = page_language(request)
    if not is_code(code):
        return error_page(request, 404, "error.not_found", lang=lang)
    return render(request, "receipt.html", lang, config={"page": "receipt", "code": code},
                  private=True)


def _timer_shown(meta: dict[str, str]) -> str:
    """How the page draws the countdown before its module runs, as the module will:
    "running", "paused" or "" (hidden); so the page does not jump when it starts."""
    timer = json_field(meta, "timer", {})
    if timer.get("running"):
        return "running"
    return "paused" if timer.get("remaining_ms") is not None else ""


async def _staff_page(request: Request, role: str) -> Response:
    """The control screen or the wall: key in the URL → cookie and redirect; else check the
    cookie and render the screen with the key in its config (for the socket's hello)."""
    workshop_id = request.path_params["id"]
    store = request.app.state.store
    view = role == "projector"
    path = f"/{'p' if view else 'f'}/{workshop_id}"
    cookie_name = STAFF_COOKIES[role] + workshop_id
    lang_query = request.query_params.get("lang")
    if await address_blocked(request):
        return error_page(request, 429, "error.too_many")
    meta: dict[str, str] = await store.meta(workshop_id)
    if not meta:
        await count_failure(request)
        return error_page(request, 404, "error.no_workshop")
    lang = page_language(request, json_field(meta, "settings", {}).get("language"))

    key = request.query_params.get("key")
    if key is not None:
        if await store.check_key(workshop_id, key, view=view) is None:
            await count_failure(request)
            return error_page(request, 401, "error.wrong_key", lang=lang)
        target = path + (f"?{urlencode({'lang': lang_query})}" if lang_query else "")
        response = RedirectResponse(target, status_code=303)
        keep_staff_key(request, response, cookie_name, key)
        response.headers["Cache-Control"] = "no-store"
        remember_language(request, response)
        return response

    key = await staff_cookie_key(request, workshop_id, role)
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
        # The stepper and the sections of this phase are drawn in the page (no jumps).
        "phase": meta.get("phase", "collect"),
    }
    if role == "facilitator":
        config["exports"] = {
            "json": f"{api}/export.json", "csv": f"{api}/export.csv", "md": f"{api}/export.md",
            "report": f"/f/{workshop_id}/report",
        }
        config["api"] = api
        config["projector_path"] = f"/p/{workshop_id}"
        config["lan"] = _lan_notice(request)
        config["plan_download"] = f"/f/{workshop_id}/plan.json"
    template = "projector.html" if view else "facilitator.html"
    return render(request, template, lang, config=config, private=True,
                  workshop_title=meta.get("title", ""), code=code, phases=PHASES,
                  timer=_timer_shown(meta), plan_position=plan_position(meta, lang),
                  **plan_rows(meta, lang))


def _lan_notice(request: Request) -> dict[str, object] | None:
    """Opened through a loopback address (127.0.0.1, ::1, localhost) without PUBLIC_URL,
    the join link and the QR code work on this computer alone: the control screen says
    so, with the machine's LAN addresses and the command that listens on them."""
    if request.app.state.settings.public_url or not is_loopback(request.url.hostname):
        return None
    addresses: list[str] = list(getattr(request.app.state, "lan_addresses", []))
    port = request.url.port or (443 if request.url.scheme == "https" else 80)
    return {"addresses": addresses, "urls": lan_urls(addresses, port, request.url.scheme),
            "port": port}


async def facilitator(request: Request) -> Response:
    return await _staff_page(request, "facilitator")


async def projector(request: Request) -> Response:
    return await _staff_page(request, "projector")


async def qr_svg(request: Request) -> Response:
    """The QR code carries the join secret: only for the wall and the control screen."""
    workshop_id = request.path_params["id"]
    meta: dict[str, str] = await request.app.state.store.meta(workshop_id)
    if not meta or not meta.get("code") or not await staff_key_given(request, workshop_id):
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
        Route("/j/{code}/mijn", receipt, methods=["GET"], name="receipt"),
        Route("/f/{id}", facilitator, methods=["GET"], name="facilitator"),
        Route("/p/{id}", projector, methods=["GET"], name="projector"),
        Route("/api/workshops/{id}/qr.svg", qr_svg, methods=["GET"], name="qr"),
    ]

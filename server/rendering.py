"""How a page is rendered: its template in one language, its config JSON for the
screen's modules, its cache header, and the language cookie; and the absolute links
(join link, QR link) a page shows."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from server import i18n, language
from server.limits import PAGE_LIMITS


def base_url(request: Request) -> str:
    """The absolute base that phones use: PUBLIC_URL, else what this request came to."""
    public: str | None = request.app.state.settings.public_url
    if public:
        return public.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


def join_path(code: str, join_secret: str) -> str:
    """The link the QR code carries: the code, and the secret that lets a phone in while
    its address is over the limit for wrong codes."""
    return f"/join?{urlencode({'code': code, 's': join_secret})}"


def join_url(request: Request, code: str, join_secret: str | None = None) -> str:
    """The absolute join link; with the join secret, the QR code's link."""
    if join_secret:
        return base_url(request) + join_path(code, join_secret)
    return f"{base_url(request)}/join?{urlencode({'code': code})}"


JS_DIR = Path(__file__).resolve().parent.parent / "static" / "js"
_IMPORT = re.compile(
    r'^(?:import|export)\b[^;]*?\bfrom\s+"(\./[\w.-]+\.js|\.\./vendor/[\w./-]+\.js)"', re.MULTILINE)


@cache
def module_preloads(entry: str) -> tuple[str, ...]:
    """Every module the page's entry module imports, however deep, as /static paths: the
    page names them all at once (modulepreload), so a phone on a slow network fetches
    them side by side instead of one level of imports after the other."""
    seen: list[str] = []
    todo = [JS_DIR / f"{entry}.js"]
    while todo:
        path = todo.pop().resolve()
        if not path.is_file():
            continue
        for name in _IMPORT.findall(path.read_text("utf-8")):
            found = (path.parent / name).resolve()
            url = "/" + found.relative_to(JS_DIR.parent.parent).as_posix()
            if url not in seen:
                seen.append(url)
                todo.append(found)
    return tuple(seen)


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
            "preloads": module_preloads(template.removesuffix(".html")),
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
    chosen = language.chosen_language(request)
    if chosen:
        response.set_cookie(
            language.LANG_COOKIE, chosen, max_age=language.COOKIE_SECONDS, path="/",
            samesite="lax", secure=request.url.scheme == "https",
        )

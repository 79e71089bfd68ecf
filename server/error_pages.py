"""The app's one error page (templates/error.html) in the visitor's language, and the
handlers that answer with it: an unknown address (404), a server error (500) and a store
that is down, frozen or full (503). A JSON route (/api/..., but an export, which is a
download) gets a JSON error body instead, as its callers expect.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.errors import error_body
from server.language import page_language, request_language
from server.rendering import render
from server.security import security_headers

STORE_RETRY_SECONDS = 10
TITLED = (401, 404, 429, 503)  # statuses with their own title; the rest "went wrong"


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
        title_key=f"error.title.{status}" if status in TITLED else "error.title.other",
    )


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") and "/export." not in request.url.path


def json_error(request: Request, code: str, status: int) -> Response:
    return JSONResponse(error_body(code, request_language(request)), status_code=status)


async def store_unavailable(request: Request, exc: Exception) -> Response:
    """The store is down, frozen or full (STORE_ERRORS): the calm "even geduld" page with
    503, which reloads itself; a JSON call gets `try_again`. Nothing is logged as a crash:
    it is a known state, and the supervisor or the operator brings the store back."""
    if wants_json(request):
        response = json_error(request, "try_again", 503)
    else:
        # page_language only: the workshop's own language cannot be read now.
        response = error_page(request, 503, "error.store", retry_seconds=STORE_RETRY_SECONDS)
    response.headers["Retry-After"] = str(STORE_RETRY_SECONDS)
    return response


async def not_found(request: Request, exc: Exception) -> Response:
    """An unknown address (Starlette's 404): the app's page that says so."""
    if wants_json(request):
        return json_error(request, "not_found", 404)
    return error_page(request, 404, "error.not_found")


async def server_error(request: Request, exc: Exception) -> Response:
    """An unhandled exception: the error page with 500 and no trace of the error (the
    traceback goes to the log, where uvicorn writes it)."""
    if wants_json(request):
        response = json_error(request, "internal", 500)
    else:
        response = error_page(request, 500, "error.internal")
    # This answer is sent outside the middleware that adds the security headers.
    nonce = getattr(request.state, "csp_nonce", "")
    for name, value in security_headers(nonce, request.url.scheme == "https"):
        response.headers.setdefault(name, value)
    return response

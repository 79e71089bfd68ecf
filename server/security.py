"""Security headers on every response (a nonce-based Content-Security-Policy and friends),
and the one origin rule for the WebSocket and every state-changing HTTP request."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.config import Settings
from server.errors import error_body
from server.language import request_language

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STAFF_COOKIE_PREFIXES = ("sf_", "sp_")
JSON_TYPE = "application/json"


def csp(nonce: str) -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ])


def security_headers(nonce: str, https: bool) -> list[tuple[str, str]]:
    """The headers every response gets (lower-case names)."""
    headers = [
        ("content-security-policy", csp(nonce)),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if https:
        headers.append(("strict-transport-security", "max-age=31536000"))
    return headers


class SecurityHeaders:
    """Pure ASGI middleware (no overhead on WebSockets): sets request.state.csp_nonce."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                extra = [(k.encode(), v.encode()) for k, v in security_headers(nonce, https)]
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def origin_allowed(origin: str | None, host: str | None, settings: Settings) -> bool:
    """The Origin is this app's own (scheme http(s), host and port as in the Host header),
    PUBLIC_URL, or one of ALLOWED_ORIGINS. A missing, empty or `null` Origin is none."""
    if not origin:
        return False
    if origin in settings.allowed_origins:
        return True
    if settings.public_url and origin == settings.public_url:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    netloc = parts.netloc.lower()
    return parts.scheme in ("http", "https") and bool(netloc) and netloc == (host or "").lower()


def is_json(headers: Headers) -> bool:
    """The body is declared JSON (`application/json`, with or without a charset)."""
    return headers.get("content-type", "").split(";", 1)[0].strip().lower() == JSON_TYPE


def cookie_borne(request: Request) -> bool:
    """The request would prove who it is with a staff cookie alone: no Bearer key and no
    `?key=` (which a foreign page cannot know), but an sf_/sp_ cookie (which a browser
    adds by itself)."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return False
    if "key" in request.query_params:
        return False
    return any(name.startswith(STAFF_COOKIE_PREFIXES) for name in request.cookies)


def write_refusal(request: Request, settings: Settings) -> tuple[str, int] | None:
    """Why a state-changing request is refused (error code, status), or None.

    - An Origin header must be this app's own (a browser always sends one on a POST or
      DELETE from another site; "null" from a sandbox or a no-referrer form counts as
      foreign): else 403 `cross_site`.
    - Without an Origin the request is not a modern browser's cross-site one; it may
      still go on, unless it rests on a staff cookie alone (an old browser could add the
      cookie to a forged request): 403 `cross_site`. See docs/decisions.md.
    - A Content-Type, when given, and any body must be JSON: else 415 `json_only` (an
      HTML form or a `text/plain` fetch from another site cannot send JSON without a
      CORS preflight, which this app never answers).
    """
    origin = request.headers.get("origin")
    if origin is not None:
        if not origin_allowed(origin, request.headers.get("host"), settings):
            return "cross_site", 403
    elif cookie_borne(request):
        return "cross_site", 403
    has_body = request.headers.get("content-length", "0") not in ("", "0") or (
        "transfer-encoding" in request.headers)
    if ("content-type" in request.headers or has_body) and not is_json(request.headers):
        return "json_only", 415
    return None


class SameOriginWrites:
    """Pure ASGI middleware: every request that may change something (any method but GET,
    HEAD, OPTIONS), on every route, present and future, passes `write_refusal` first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = write_refusal(request, scope["app"].state.settings)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        code, status = refusal
        response = JSONResponse(error_body(code, request_language(request)), status_code=status)
        await response(scope, receive, send)


class NoClientAddresses(logging.Filter):
    """uvicorn logs every WebSocket handshake (and, if it is ever switched on, every request)
    as `<client address> - "<request line>"`, with the query string, which may carry a key.
    Keep the line, without the address and the query: no IP addresses, no keys in logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(record.msg, str) and record.msg.startswith('%s - "') and (
            isinstance(args, tuple) and args
        ):
            record.args = ("-", *(
                a.split("?", 1)[0] if isinstance(a, str) and a.startswith("/") else a
                for a in args[1:]
            ))
        return True


class ClientFaultsWithoutTraces(logging.Filter):
    """uvicorn's websockets-sansio logs a client's invalid UTF-8 text frame with a full
    traceback at ERROR (it closes the socket with 1007, as it should). A client's bad
    bytes are no server error: keep one WARNING line, without the traceback."""

    MESSAGES = frozenset({"Invalid UTF-8 sequence received from client."})

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in self.MESSAGES:
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def keep_addresses_out_of_logs() -> None:
    """Install the filters above on uvicorn's loggers (once; after uvicorn set up
    logging, which it does before it builds the app)."""
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        for kind in (NoClientAddresses, ClientFaultsWithoutTraces):
            if not any(isinstance(f, kind) for f in logger.filters):
                logger.addFilter(kind())

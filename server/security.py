"""Security headers on every response: a nonce-based Content-Security-Policy and friends."""

from __future__ import annotations

import logging
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
                extra = [
                    (b"content-security-policy", csp(nonce).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if https:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


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

"""Message shapes on the socket: parsing client frames and building server frames.

Every client frame is one JSON object with a `type`, at most MAX_FRAME bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson

from server.errors import DomainError, message
from server.language import exact

MAX_FRAME: Final = 16 * 1024
HELLO_SECONDS: Final = 10.0

CLOSE_MALFORMED: Final = 4400
CLOSE_WRONG_KEY: Final = 4401
CLOSE_LOCKED: Final = 4403
CLOSE_NOT_FOUND: Final = 4404
CLOSE_TOO_SLOW: Final = 4408
CLOSE_ERASED: Final = 4410
CLOSE_TOO_MANY: Final = 4429
# Standard codes the server uses too: a refused origin, a restart, the store out of reach.
CLOSE_POLICY: Final = 1008
CLOSE_RESTART: Final = 1012
CLOSE_TRY_AGAIN: Final = 1013
# Every close code the server sends, by the name the front end uses (static/js/protocol.js
# CLOSE; tests/e2e/test_protocol_module.py holds the two together).
CLOSE_CODES: Final[dict[str, int]] = {
    "MALFORMED": CLOSE_MALFORMED, "WRONG_KEY": CLOSE_WRONG_KEY, "LOCKED": CLOSE_LOCKED,
    "NOT_FOUND": CLOSE_NOT_FOUND, "TOO_SLOW": CLOSE_TOO_SLOW, "ERASED": CLOSE_ERASED,
    "TOO_MANY": CLOSE_TOO_MANY, "POLICY": CLOSE_POLICY, "RESTART": CLOSE_RESTART,
    "TRY_AGAIN": CLOSE_TRY_AGAIN,
}

# Client frame types (the front end keeps the same frozen list in static/js/protocol.js).
CLIENT_TYPES: Final = ("hello", "op", "ping")
SERVER_TYPES: Final = ("welcome", "events", "ack", "nack", "error", "presence", "pong",
                       "wait", "status")
CODE_DIGITS: Final = range(6, 11)  # a join code has 6 to 10 digits


def parse_frame(text: str | bytes) -> dict[str, Any]:
    """One client frame as a dict, or DomainError (malformed / frame_too_large)."""
    if len(text) > MAX_FRAME:
        raise DomainError("frame_too_large")
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise DomainError("malformed") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise DomainError("malformed")
    return data


@dataclass(frozen=True)
class Hello:
    role: str
    lang: str
    since: int | None
    code: str | None = None
    token: str | None = None
    workshop: str | None = None
    key: str | None = None
    join_secret: str | None = None


def _opt_str(data: dict[str, Any], field: str, max_len: int = 200) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise DomainError("bad_args", field=field)
    return value


def parse_hello(data: dict[str, Any]) -> Hello:
    if data.get("type") != "hello":
        raise DomainError("hello_expected")
    role = data.get("role")
    since = data.get("since")
    if since is not None and (isinstance(since, bool) or not isinstance(since, int) or since < 0):
        raise DomainError("bad_args", field="since")
    lang = exact(data.get("lang")) or ""
    if role == "participant":
        code = _opt_str(data, "code", CODE_DIGITS[-1])
        if not code or len(code) not in CODE_DIGITS or not code.isascii() or not code.isdigit():
            raise DomainError("bad_args", field="code")
        return Hello(role, str(lang), since, code=code, token=_opt_str(data, "token"),
                     join_secret=_opt_str(data, "join_secret"))
    if role in ("facilitator", "projector"):
        workshop = _opt_str(data, "workshop", 64)
        key = _opt_str(data, "key")
        if not workshop or not key:
            raise DomainError("bad_args", field="workshop" if not workshop else "key")
        return Hello(role, str(lang), since, workshop=workshop, key=key)
    raise DomainError("bad_args", field="role")


def error_frame(err: DomainError, lang: str) -> bytes:
    return orjson.dumps({"type": "error", "error": err.body(lang)})


def nack(op_id: Any, code: str, lang: str, params: dict[str, Any] | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message(code, lang, params)}
    if params and isinstance(params.get("retry_ms"), int):
        error["retry_ms"] = params["retry_ms"]  # too_fast: when a resend will be served
    return orjson.dumps({"type": "nack", "op_id": op_id, "error": error})


def status_frame(store_ok: bool) -> bytes:
    """Whether the server can save now ("ok") or not ("down": down, frozen or full)."""
    return orjson.dumps({"type": "status", "store": "ok" if store_ok else "down"})


def ack(op_id: Any, seq: int | None, result: dict[str, Any] | None) -> bytes:
    return orjson.dumps({"type": "ack", "op_id": op_id, "seq": seq, "result": result or {}})

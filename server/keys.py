"""Every Redis key Samenspel uses is made here.

A workshop's keys share the hash tag `{<id>}`, so that one workshop lives on one Redis
Cluster slot and one Lua script may touch all of them. Every key gets an expiry.
"""

from __future__ import annotations

from typing import Final

PREFIX: Final = "ws"
# Order matters: server/lua/ops.lua reads KEYS by position.
PARTS: Final = (
    "meta", "notes", "clusters", "participants", "tokens", "ballots", "totals", "events", "ops",
    "presence", "opsage", "notecount", "limits", "signups", "activities", "undo",
)


def workshop_key(workshop_id: str, part: str) -> str:
    assert part in PARTS, part
    return f"{PREFIX}:{{{workshop_id}}}:{part}"


def workshop_keys(workshop_id: str) -> list[str]:
    return [workshop_key(workshop_id, part) for part in PARTS]


def code_key(code: str) -> str:
    """The join code's pointer to its workshop (outside any workshop's hash tag)."""
    return f"{PREFIX}:code:{code}"


# Every join code that is in use, scored by when it expires (ms): how many codes a guess
# could hit, which sets the length of a new code. One key for the whole deployment, touched
# only on its own (never inside a workshop's script), so Redis Cluster is no trouble.
ACTIVE_CODES: Final = f"{PREFIX}:codes:active"


def wake_key(process_id: str) -> str:
    """A stream per server process, written to wake its blocking XREAD early."""
    return f"{PREFIX}:wake:{{{process_id}}}"


def heartbeat_key(process_id: str) -> str:
    """A small key per server process, written each second: proof the store takes writes."""
    return f"{PREFIX}:heartbeat:{process_id}"


def limit_key(bucket: str, subject: str) -> str:
    """A rate-limit counter (subject is hashed by the caller: no addresses in Redis)."""
    return f"{PREFIX}:limit:{bucket}:{subject}"


CONTROL_CHANNEL: Final = f"{PREFIX}:control"

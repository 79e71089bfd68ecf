"""The Redis store: workshops, participants and ops, each change one atomic script call.

This module knows keys, scripts and the shape of what is stored; it knows nothing of
sockets. Rules that depend on the stored state run inside server/lua/ops.lua.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server import keys
from server.batcher import ScriptBatcher
from server.errors import DomainError
from server.protocol import CODE_DIGITS
from server.rules import (
    ANSWER_TTL_MS,
    ANSWERS_PER_ACTOR,
    DEFAULT_SETTINGS,
    NOTES_PER_PARTICIPANT,
    NOTES_PER_WORKSHOP,
)

if TYPE_CHECKING:  # server.room imports this module (Event); the type only, for mypy
    from server.room import Room

# The store is down, frozen or full ("OOM": past maxmemory, the write was refused and
# nothing of it was done): the caller answers `try_again`, and may safely send it again.
STORE_ERRORS = (RedisConnectionError, RedisTimeoutError, OutOfMemoryError, OSError)
POOL_SIZE = 64  # Redis connections per process for ops and pages
# An op waits this long for a free connection, then for Redis's answer; then `try_again`.
# A frozen Redis thus costs an op at most ~2 s, never a hang.
POOL_WAIT_SECONDS = 1.0
SOCKET_TIMEOUT_SECONDS = 1.0
# The hub's blocking reads (XREAD ... BLOCK up to this, and pub/sub) have their own few
# connections, with a read timeout longer than the block.
BLOCK_MAX_MS = 5000
BLOCKING_TIMEOUT_SECONDS = BLOCK_MAX_MS / 1000 + 3


# Delete a join code's key only while it still names this workshop (KEYS[1], ARGV[1]).
DROP_CODE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def new_secret() -> str:
    """A key or token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def is_code(code: object) -> bool:
    return isinstance(code, str) and len(code) in CODE_DIGITS and code.isascii() and (
        code.isdigit())


def code_length(active: int, odds: int) -> int:
    """The fewest digits (6 to 10) for which one guess hits one of `active` codes with a
    chance of at most 1 in `odds`: active / 10**digits <= 1 / odds."""
    for digits in CODE_DIGITS:
        if active * odds <= 10**digits:
            return digits
    return CODE_DIGITS[-1]


def new_id(prefix: str = "") -> str:
    """An opaque id that starts with a letter: never read as a formula ("-", "=") in a
    spreadsheet cell, nor as an option on a command line."""
    return prefix + secrets.choice(string.ascii_letters) + secrets.token_urlsafe(12)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_secret(given: str | None, stored_digest: str | None) -> bool:
    """Constant-time comparison of a secret with a stored digest."""
    if not given or not stored_digest or len(given) > 200:
        return False
    return hmac.compare_digest(digest(given), stored_digest)


def _list(value: Any) -> list[Any]:
    # Lua's cjson writes an empty list as {}.
    return value if isinstance(value, list) else []


def normalize_settings(settings: dict[str, Any]) -> dict[str, Any]:
    out = {**DEFAULT_SETTINGS, **settings}
    out["perspectives"] = _list(out.get("perspectives"))
    return out


def normalize_event(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Undo what Lua's cjson does to empty lists and empty maps."""
    if "removed_items" in data:
        data["removed_items"] = _list(data["removed_items"])
    if kind == "votes_changed" and not isinstance(data.get("mine"), dict):
        data["mine"] = {}
    if kind == "settings_changed":
        data["settings"] = normalize_settings(data["settings"])
        data["changed"] = _list(data.get("changed"))
    if "assign" in data and not isinstance(data["assign"], dict):
        data["assign"] = {}
    if kind == "participant_removed":
        data["note_ids"] = _list(data.get("note_ids"))
        data["hidden_note_ids"] = _list(data.get("hidden_note_ids"))
        if not isinstance(data.get("totals"), dict):
            data["totals"] = {}
    return data


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    actor: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """What a script said about an op: ack (seq, result) or nack (code, params)."""

    ok: bool
    seq: int | None = None
    result: dict[str, Any] | None = None
    code: str = ""
    params: dict[str, Any] | None = None

    def error(self) -> DomainError:
        return DomainError(self.code, **(self.params or {}))


@dataclass(frozen=True)
class Bounds:
    """What one workshop may store (server/rules.py has the defaults)."""

    answer_ttl_ms: int = ANSWER_TTL_MS
    answers_per_actor: int = ANSWERS_PER_ACTOR
    notes_per_participant: int = NOTES_PER_PARTICIPANT
    notes_per_workshop: int = NOTES_PER_WORKSHOP


class Store:
    def __init__(self, redis: aioredis.Redis, retention_ms: int, stream_maxlen: int,
                 blocking: aioredis.Redis | None = None,
                 bounds: Bounds | None = None) -> None:
        # Typed as Any: with decode_responses=True every reply is str, which redis-py's
        # annotations (bytes | str | None) cannot express.
        self.redis: Any = redis
        # For the hub's XREAD BLOCK and pub/sub only (see BLOCKING_TIMEOUT_SECONDS).
        self.blocking: Any = blocking or redis
        self.retention_ms = retention_ms
        self.stream_maxlen = stream_maxlen
        self.bounds = bounds or Bounds()
        lua = resources.files("server").joinpath("lua/ops.lua").read_text("utf-8")
        self._ops = ScriptBatcher(redis, redis.register_script(lua))
        self._drop_code = redis.register_script(DROP_CODE)

    @classmethod
    def from_url(cls, url: str, retention_ms: int, stream_maxlen: int,
                 bounds: Bounds | None = None) -> Store:
        # A blocking pool: under a burst (a thousand phones placing dots at once) an op
        # waits for a free connection instead of failing with "too many connections"
        # (redis-py's default pool refuses past 100, which phones saw as `try_again`).
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=POOL_SIZE,
            timeout=POOL_WAIT_SECONDS,
            decode_responses=True,
            health_check_interval=10,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            retry_on_timeout=False,
        )
        blocking = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=4,
            timeout=POOL_WAIT_SECONDS,
            decode_responses=True,
            health_check_interval=10,
            socket_timeout=BLOCKING_TIMEOUT_SECONDS,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            retry_on_timeout=False,
        )
        return cls(aioredis.Redis(connection_pool=pool), retention_ms, stream_maxlen,
                   aioredis.Redis(connection_pool=blocking), bounds)

    async def close(self) -> None:
        await self.redis.aclose()
        if self.blocking is not self.redis:
            await self.blocking.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    # ------------------------------------------------------------------ ops
    async def run(
        self,
        workshop_id: str,
        op: str,
        args: dict[str, Any],
        *,
        role: str,
        actor: str = "",
        answer_key: str = "",
        fresh_id: str = "",
    ) -> Answer:
        raw = await self._ops.call(
            keys.workshop_keys(workshop_id),
            [
                op,
                role,
                actor,
                answer_key,
                orjson.dumps(args).decode(),
                self.retention_ms,
                self.stream_maxlen,
                fresh_id or new_id(),
                self.bounds.answer_ttl_ms,
                self.bounds.answers_per_actor,
                self.bounds.notes_per_participant,
                self.bounds.notes_per_workshop,
            ],
        )
        out = orjson.loads(raw)
        if out.get("ok"):
            result = out.get("result")
            if op == "vote" and isinstance(result, dict):
                result["mine"] = result.get("mine") or {}
            return Answer(True, out.get("seq"), result if isinstance(result, dict) else {})
        params = out.get("params")
        return Answer(False, code=out["code"], params=params if isinstance(params, dict) else {})

    # ------------------------------------------------------------- workshops
    async def active_codes(self) -> int:
        """How many join codes are in use now (expired ones are dropped first)."""
        now = int(time.time() * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(keys.ACTIVE_CODES, "-inf", now)
            pipe.zcard(keys.ACTIVE_CODES)
            _, count = await pipe.execute()
        return int(count)

    async def _track_code(self, code: str) -> None:
        """Count a code as in use until it expires (as its code key does)."""
        expires = int(time.time() * 1000) + self.retention_ms
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(keys.ACTIVE_CODES, {code: expires})
            pipe.pexpire(keys.ACTIVE_CODES, self.retention_ms)
            await pipe.execute()

    async def create_workshop(self, clean: dict[str, Any], code_odds: int = 100_000) -> dict[
            str, str]:
        """Store a new workshop; returns id, code, the two keys (shown once) and the join
        secret. The code is long enough for the codes in use, the new one included."""
        workshop_id = new_id()
        facilitator_key, view_key, join_secret = new_secret(), new_secret(), new_secret()
        digits = code_length(await self.active_codes() + 1, code_odds)
        for _ in range(50):
            code = f"{secrets.randbelow(10**digits):0{digits}d}"
            key = keys.code_key(code)
            if await self.redis.set(key, workshop_id, nx=True, px=self.retention_ms):
                break
        else:  # pragma: no cover - the code space is full
            raise DomainError("internal")
        await self._track_code(code)
        prompts = [{"id": f"q{i + 1}", "text": text} for i, text in enumerate(clean["prompts"])]
        args = {
            "id": workshop_id,
            "code": code,
            "title": clean["title"],
            "prompts": prompts,
            "settings": clean["settings"],
            "fkey": digest(facilitator_key),
            "vkey": digest(view_key),
            "jkey": join_secret,
        }
        answer = await self.run(workshop_id, "create", args, role="system")
        if not answer.ok:  # pragma: no cover - fresh random id
            raise answer.error()
        return {"id": workshop_id, "code": code, "facilitator_key": facilitator_key,
                "view_key": view_key, "join_secret": join_secret}

    async def workshop_for_code(self, code: str) -> str | None:
        if not is_code(code):
            return None
        workshop_id: str | None = await self.redis.get(keys.code_key(code))
        return workshop_id

    async def meta(self, workshop_id: str) -> dict[str, str]:
        data: dict[str, str] = await self.redis.hgetall(keys.workshop_key(workshop_id, "meta"))
        return data

    async def check_key(self, workshop_id: str, key: str | None, *, view: bool) -> str | None:
        """The role a key opens ("facilitator" or "projector"), or None."""
        fkey, vkey = await self.redis.hmget(keys.workshop_key(workshop_id, "meta"), "fkey", "vkey")
        if same_secret(key, fkey):
            return "facilitator"
        if view and same_secret(key, vkey):
            return "projector"
        return None

    async def join_secret(self, workshop_id: str) -> str | None:
        """The secret of the QR link (kept as is: the wall shows it again; see
        docs/decisions.md), or None for a workshop made before there were any."""
        secret: str | None = await self.redis.hget(
            keys.workshop_key(workshop_id, "meta"), "jkey")
        return secret or None

    async def check_join_secret(self, workshop_id: str, given: str | None) -> bool:
        if not given or len(given) > 200:
            return False
        stored = await self.join_secret(workshop_id)
        return stored is not None and hmac.compare_digest(given.encode(), stored.encode())

    async def rotate_keys(self, workshop_id: str) -> dict[str, str]:
        """New keys and a new join secret (a leaked QR link is a leaked link too), in one
        step that first checks the workshop still exists (an erase may have come first):
        DomainError("no_workshop") if it does not."""
        facilitator_key, view_key, join_secret = new_secret(), new_secret(), new_secret()
        args = {"fkey": digest(facilitator_key), "vkey": digest(view_key), "jkey": join_secret}
        answer = await self.run(workshop_id, "rotate_keys", args, role="system")
        if not answer.ok:
            raise answer.error()
        return {"facilitator_key": facilitator_key, "view_key": view_key,
                "join_secret": join_secret}

    async def erase(self, workshop_id: str) -> None:
        """Every key of the workshop in one step, then its join code's key. The code's
        key is in another Cluster slot, so it cannot be in the same script: it goes
        second, and only while it still points at this workshop (a code is reused once
        free). Left behind by a crash in between, it points at nothing and expires."""
        answer = await self.run(workshop_id, "erase", {}, role="system")
        code = (answer.result or {}).get("code") if answer.ok else None
        if code:
            dropped = await self._drop_code(keys=[keys.code_key(str(code))], args=[workshop_id])
            if dropped:
                await self.redis.zrem(keys.ACTIVE_CODES, code)

    async def touch_code(self, code: str) -> None:
        expires = int(time.time() * 1000) + self.retention_ms
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.pexpire(keys.code_key(code), self.retention_ms)
            pipe.zadd(keys.ACTIVE_CODES, {code: expires}, xx=True)
            pipe.pexpire(keys.ACTIVE_CODES, self.retention_ms)
            await pipe.execute()

    # ----------------------------------------------------------- participants
    async def participant_for_token(self, workshop_id: str, token: str | None) -> str | None:
        if not token or not isinstance(token, str) or len(token) > 200:
            return None
        pid: str | None = await self.redis.hget(
            keys.workshop_key(workshop_id, "tokens"), digest(token)
        )
        return pid

    async def join(self, workshop_id: str) -> tuple[str, str]:
        """A new participant: returns (participant_id, token)."""
        pid, token = new_id("p"), new_secret()
        answer = await self.run(
            workshop_id, "join", {"token_hash": digest(token)}, role="system", actor=pid
        )
        if not answer.ok:
            raise answer.error()
        return pid, token

    # ---------------------------------------------------------------- reading
    async def load(self, workshop_id: str) -> Room | None:
        """The whole stored state, read atomically, as the facilitator's full room."""
        k = keys.workshop_key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(k(workshop_id, "meta"))
            pipe.hgetall(k(workshop_id, "notes"))
            pipe.hgetall(k(workshop_id, "clusters"))
            pipe.hgetall(k(workshop_id, "participants"))
            pipe.hgetall(k(workshop_id, "ballots"))
            pipe.hgetall(k(workshop_id, "totals"))
            meta, notes, clusters, parts, ballots, totals = await pipe.execute()
        if not meta:
            return None
        settings = normalize_settings(orjson.loads(meta["settings"]))
        return {
            "workshop": {
                "id": meta["id"],
                "code": meta["code"],
                "title": meta["title"],
                "phase": meta["phase"],
                "locked": meta.get("locked") == "1",
                "timer": orjson.loads(meta["timer"]),
                "settings": settings,
                "created_at": int(meta["created_at"]),
                "updated_at": int(meta.get("updated_at") or meta["created_at"]),
            },
            "prompts": orjson.loads(meta["prompts"]),
            "notes": {nid: orjson.loads(v) for nid, v in notes.items()},
            "clusters": {cid: orjson.loads(v) for cid, v in clusters.items()},
            "participants": {pid: orjson.loads(v) for pid, v in parts.items()},
            "ballots": {pid: orjson.loads(v) for pid, v in ballots.items()},
            "totals": {item: int(n) for item, n in totals.items()},
            "online": 0,
            "seq": int(meta["seq"]),
        }

    async def events_after(self, workshop_id: str, since: int, count: int = 1000) -> list[Event]:
        """Events with seq > since, in order (at most `count`)."""
        entries: Any = await self.redis.xrange(
            keys.workshop_key(workshop_id, "events"), min=f"({since}-0", count=count
        )
        return [parse_entry(entry_id, fields) for entry_id, fields in entries]

    async def oldest_seq(self, workshop_id: str) -> int | None:
        entries: Any = await self.redis.xrange(keys.workshop_key(workshop_id, "events"), count=1)
        if not entries:
            return None
        entry_id, fields = entries[0]
        return parse_entry(str(entry_id), dict(fields)).seq


def parse_entry(entry_id: str, fields: dict[str, str]) -> Event:
    """A stream entry (`<seq>-0`, fields k, a, d) as an Event."""
    kind = fields["k"]
    return Event(
        seq=int(entry_id.split("-", 1)[0]),
        kind=kind,
        actor=fields.get("a", ""),
        data=normalize_event(kind, orjson.loads(fields["d"])),
    )

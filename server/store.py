"""The Redis store: workshops, participants and ops, each change one atomic script call.

This module knows keys, scripts and the shape of what is stored; it knows nothing of
sockets. Rules that depend on the stored state run inside server/lua/ops.lua.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server import keys
from server.batcher import ScriptBatcher
from server.errors import DomainError
from server.rules import DEFAULT_SETTINGS

STORE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
POOL_SIZE = 64  # Redis connections per process (one blocks on XREAD, one on pub/sub)
POOL_WAIT_SECONDS = 5.0  # an op waits this long for a free connection, then `try_again`


def new_secret() -> str:
    """A key or token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


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


class Store:
    def __init__(self, redis: aioredis.Redis, retention_ms: int, stream_maxlen: int) -> None:
        # Typed as Any: with decode_responses=True every reply is str, which redis-py's
        # annotations (bytes | str | None) cannot express.
        self.redis: Any = redis
        self.retention_ms = retention_ms
        self.stream_maxlen = stream_maxlen
        lua = resources.files("server").joinpath("lua/ops.lua").read_text("utf-8")
        self._ops = ScriptBatcher(redis, redis.register_script(lua))

    @classmethod
    def from_url(cls, url: str, retention_ms: int, stream_maxlen: int) -> Store:
        # A blocking pool: under a burst (a thousand phones placing dots at once) an op
        # waits for a free connection instead of failing with "too many connections"
        # (redis-py's default pool refuses past 100, which phones saw as `try_again`).
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=POOL_SIZE,
            timeout=POOL_WAIT_SECONDS,
            decode_responses=True,
            health_check_interval=10,
            socket_timeout=10,
            socket_connect_timeout=5,
            retry_on_timeout=False,
        )
        return cls(aioredis.Redis(connection_pool=pool), retention_ms, stream_maxlen)

    async def close(self) -> None:
        await self.redis.aclose()

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
    async def create_workshop(self, clean: dict[str, Any]) -> dict[str, str]:
        """Store a new workshop; returns id, code and the two keys (shown once)."""
        workshop_id = new_id()
        facilitator_key, view_key = new_secret(), new_secret()
        for _ in range(50):
            code = f"{secrets.randbelow(1_000_000):06d}"
            key = keys.code_key(code)
            if await self.redis.set(key, workshop_id, nx=True, px=self.retention_ms):
                break
        else:  # pragma: no cover - a million codes all taken
            raise DomainError("internal")
        prompts = [{"id": f"q{i + 1}", "text": text} for i, text in enumerate(clean["prompts"])]
        args = {
            "id": workshop_id,
            "code": code,
            "title": clean["title"],
            "prompts": prompts,
            "settings": clean["settings"],
            "fkey": digest(facilitator_key),
            "vkey": digest(view_key),
        }
        answer = await self.run(workshop_id, "create", args, role="system")
        if not answer.ok:  # pragma: no cover - fresh random id
            raise answer.error()
        return {"id": workshop_id, "code": code, "facilitator_key": facilitator_key,
                "view_key": view_key}

    async def workshop_for_code(self, code: str) -> str | None:
        if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
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

    async def rotate_keys(self, workshop_id: str) -> dict[str, str]:
        facilitator_key, view_key = new_secret(), new_secret()
        await self.redis.hset(
            keys.workshop_key(workshop_id, "meta"),
            mapping={"fkey": digest(facilitator_key), "vkey": digest(view_key)},
        )
        return {"facilitator_key": facilitator_key, "view_key": view_key}

    async def erase(self, workshop_id: str) -> None:
        code = await self.redis.hget(keys.workshop_key(workshop_id, "meta"), "code")
        names = keys.workshop_keys(workshop_id)
        if code:
            await self.redis.delete(keys.code_key(code))
        await self.redis.delete(*names)

    async def touch_code(self, code: str) -> None:
        await self.redis.pexpire(keys.code_key(code), self.retention_ms)

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
    async def load(self, workshop_id: str) -> dict[str, Any] | None:
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

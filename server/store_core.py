"""The store's connection and its one way to change state: `run`, one atomic script call
of server/lua/ops.lua. The rest of the store (server/store_*.py) builds on this class."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any, Self

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server import keys
from server.batcher import CommandBatcher, ScriptBatcher
from server.errors import DomainError
from server.ids import new_id
from server.rules import (
    ANSWER_TTL_MS,
    ANSWERS_PER_ACTOR,
    NOTES_PER_PARTICIPANT,
    NOTES_PER_WORKSHOP,
)

# The store is down, frozen or full ("OOM": past maxmemory, the write was refused and
# nothing of it was done): the caller answers `try_again`, and may safely send it again.
STORE_ERRORS = (RedisConnectionError, RedisTimeoutError, OutOfMemoryError, OSError)
# Any failure of the store, for callers that go on without it (the rate limits fail open).
STORE_FAILURES = (RedisError, OSError)
POOL_SIZE = 64  # Redis connections per process for ops and pages
# An op waits this long for a free connection, then for Redis's answer; then `try_again`.
# A frozen Redis thus costs an op at most ~2 s, never a hang.
POOL_WAIT_SECONDS = 1.0
SOCKET_TIMEOUT_SECONDS = 1.0
# The hub's blocking reads (XREAD ... BLOCK up to this, and pub/sub) have their own few
# connections, with a read timeout longer than the block.
BLOCK_MAX_MS = 5000
BLOCKING_TIMEOUT_SECONDS = BLOCK_MAX_MS / 1000 + 3


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


def _pool(url: str, size: int, read_timeout: float) -> aioredis.Redis:
    # A blocking pool: under a burst (a thousand phones placing dots at once) an op
    # waits for a free connection instead of failing with "too many connections"
    # (redis-py's default pool refuses past 100, which phones saw as `try_again`).
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=size,
        timeout=POOL_WAIT_SECONDS,
        decode_responses=True,
        health_check_interval=10,
        socket_timeout=read_timeout,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        retry_on_timeout=False,
    )
    return aioredis.Redis(connection_pool=pool)


@functools.lru_cache(maxsize=4096)
def encoded_keys(workshop_id: str) -> list[bytes]:
    """A workshop's keys (server/keys.py), as bytes for the script call."""
    return [k.encode() for k in keys.workshop_keys(workshop_id)]


class StoreCore:
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
        self._reads = CommandBatcher(redis)  # a join's reads, pipelined with others'
        b = self.bounds
        self._fixed = [str(v).encode() for v in (
            retention_ms, stream_maxlen, b.answer_ttl_ms, b.answers_per_actor,
            b.notes_per_participant, b.notes_per_workshop)]

    @classmethod
    def from_url(cls, url: str, retention_ms: int, stream_maxlen: int,
                 bounds: Bounds | None = None) -> Self:
        return cls(_pool(url, POOL_SIZE, SOCKET_TIMEOUT_SECONDS), retention_ms, stream_maxlen,
                   _pool(url, 4, BLOCKING_TIMEOUT_SECONDS), bounds)

    async def drop_idle_connections(self) -> None:
        """Close the pooled connections not in use, so that the next command opens a
        fresh one (after the embedded Valkey was restarted: the old ones are dead, and
        each would fail its first command)."""
        for client in {id(self.redis): self.redis, id(self.blocking): self.blocking}.values():
            await client.connection_pool.disconnect(inuse_connections=False)

    async def close(self) -> None:
        await self.redis.aclose()
        if self.blocking is not self.redis:
            await self.blocking.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except STORE_FAILURES:
            return False

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
        # Keys and the fixed arguments go as bytes, made once: redis-py encodes every
        # argument of every call (26 a script call), a tenth of a vote storm's CPU.
        fixed = self._fixed
        raw = await self._ops.call(
            encoded_keys(workshop_id),
            [op, role, actor, answer_key, orjson.dumps(args), fixed[0], fixed[1],
             fresh_id or new_id(), *fixed[2:]],
        )
        out = orjson.loads(raw)
        if out.get("ok"):
            result = out.get("result")
            if op == "vote" and isinstance(result, dict):
                result["mine"] = result.get("mine") or {}
            return Answer(True, out.get("seq"), result if isinstance(result, dict) else {})
        params = out.get("params")
        return Answer(False, code=out["code"], params=params if isinstance(params, dict) else {})

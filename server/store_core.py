"""The store's connection and its one way to change state: `run`, one atomic script call
of server/lua/ops.lua. The rest of the store (server/store_*.py) builds on this class."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from importlib import resources
from typing import Any, Self

import orjson
import redis.asyncio as aioredis
from redis.exceptions import (
    ClusterError,
    OutOfMemoryError,
    RedisClusterException,
    RedisError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server import keys
from server.batcher import Arg, CommandBatcher, ScriptBatcher
from server.errors import DomainError
from server.ids import new_id
from server.rules import (
    ANSWER_TTL_MS,
    ANSWERS_PER_ACTOR,
    NOTES_PER_PARTICIPANT,
    NOTES_PER_WORKSHOP,
)
from server.store_cluster import cluster_client, cluster_ok, detect, detect_async

log = logging.getLogger("samenspel.store")

# The store is down, frozen or full ("OOM": past maxmemory, the write was refused and
# nothing of it was done): the caller answers `try_again`, and may safely send it again.
# On a cluster also: a slot's master is down or not yet replaced (CLUSTERDOWN, TRYAGAIN),
# or no node serves the slot (redis-py's RedisClusterException, which is no RedisError).
STORE_ERRORS = (RedisConnectionError, RedisTimeoutError, OutOfMemoryError, OSError,
                ClusterError, TryAgainError, RedisClusterException)
# Any failure of the store, for callers that go on without it (the rate limits fail open).
STORE_FAILURES = (RedisError, OSError, RedisClusterException)
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
    def __init__(self, redis: Any, retention_ms: int, stream_maxlen: int,
                 blocking: Any = None,
                 bounds: Bounds | None = None, *, cluster: bool | None = False,
                 url: str = "", wait_replicas: int = 0) -> None:
        # Typed as Any: with decode_responses=True every reply is str, which redis-py's
        # annotations (bytes | str | None) cannot express.
        self.redis: Any = redis
        # For the hub's XREAD BLOCK and pub/sub only (see BLOCKING_TIMEOUT_SECONDS).
        self.blocking: Any = blocking or redis
        # A Redis Cluster (server/store_cluster.py); None: REDIS_URL did not answer yet,
        # asked again on the next use (`connected`).
        self.cluster = cluster
        self.url = url
        self.retention_ms = retention_ms
        self.stream_maxlen = stream_maxlen
        self.bounds = bounds or Bounds()
        b = self.bounds
        self._fixed = [Arg(str(v).encode()) for v in (
            retention_ms, stream_maxlen, b.answer_ttl_ms, b.answers_per_actor,
            b.notes_per_participant, b.notes_per_workshop)]
        self.wait_replicas = wait_replicas
        self._lua = resources.files("server").joinpath("lua/ops.lua").read_text("utf-8")
        self._scripts()

    def _scripts(self) -> None:
        """The scripts, registered with the current client."""
        node_of = self.redis.get_node_from_key if self.cluster else None
        self._ops = ScriptBatcher(self.redis, self.redis.register_script(self._lua),
                                  self.wait_replicas, node_of)
        self._reads = CommandBatcher(self.redis)  # a join's reads, pipelined with others'
        self._drop_code: Any = None
        self._join_turn: Any = None

    @classmethod
    def from_url(cls, url: str, retention_ms: int, stream_maxlen: int,
                 bounds: Bounds | None = None, wait_replicas: int = 0) -> Self:
        """The store on REDIS_URL: one Redis, or any node of a cluster (asked once here)."""
        cluster = detect(url)
        blocking: Any
        if cluster:
            client: Any = cluster_client(url, SOCKET_TIMEOUT_SECONDS, SOCKET_TIMEOUT_SECONDS)
            blocking = cluster_client(url, BLOCKING_TIMEOUT_SECONDS, SOCKET_TIMEOUT_SECONDS)
        else:
            client = _pool(url, POOL_SIZE, SOCKET_TIMEOUT_SECONDS)
            blocking = _pool(url, 4, BLOCKING_TIMEOUT_SECONDS)
        return cls(client, retention_ms, stream_maxlen, blocking, bounds, cluster=cluster,
                   url=url, wait_replicas=wait_replicas)

    async def connected(self) -> None:
        """Nothing once the kind of store is known; else ask REDIS_URL again and, when it
        answers, use the right client from now on (raises a STORE_ERROR while not)."""
        if self.cluster is not None:
            return
        found = await detect_async(self.url)
        if self.cluster is not None:
            return  # another caller got there first
        log.warning("REDIS_URL answers again: %s", "a cluster node" if found else "one Redis")
        if not found:
            self.cluster = False
            return
        old = (self.redis, self.blocking)
        self.redis = cluster_client(self.url, SOCKET_TIMEOUT_SECONDS, SOCKET_TIMEOUT_SECONDS)
        self.blocking = cluster_client(self.url, BLOCKING_TIMEOUT_SECONDS,
                                       SOCKET_TIMEOUT_SECONDS)
        self.cluster = True
        self._scripts()
        for client in old:
            await client.aclose()

    async def drop_idle_connections(self) -> None:
        """Close the pooled connections not in use, so that the next command opens a
        fresh one (after the embedded Valkey was restarted: the old ones are dead, and
        each would fail its first command)."""
        if self.cluster:
            return  # (no embedded Valkey is a cluster)
        for client in {id(self.redis): self.redis, id(self.blocking): self.blocking}.values():
            await client.connection_pool.disconnect(inuse_connections=False)

    async def close(self) -> None:
        await self.redis.aclose()
        if self.blocking is not self.redis:
            await self.blocking.aclose()

    async def ping(self) -> bool:
        """Can the store serve now? On a cluster: every slot served, every master up."""
        try:
            await self.connected()
            if self.cluster:
                return await cluster_ok(self.redis)
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
        if self.cluster is None:  # (known nearly always: no coroutine of its own per op)
            await self.connected()
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

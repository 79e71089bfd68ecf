"""The hub's Redis: every key and command the fan-out uses, in one place (keys from
server/keys.py), so that the hub itself builds no key and calls no Redis command.

The event streams (one blocking XREAD over a process's workshops and its wake stream;
on a Redis Cluster a pipeline of XREADs per node, see server/store_cluster.py),
the wake stream, presence (a sorted set per workshop, scored by when a participant was
last seen), the heartbeat, and the control channel (pub/sub between processes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.exceptions import RedisClusterException, RedisError

from server import keys
from server.store import Event, Store, parse_entry
from server.store_cluster import read_streams

# What a call here raises when the store is down, frozen or full (callers catch these
# and need no import of redis for it).
# On a cluster also RuntimeError: redis-py's cluster client closes all its connections
# when a node says CLUSTERDOWN, and a command of another task in flight on one of them
# then meets a closed transport (uvloop raises RuntimeError): retried like the others.
FEED_ERRORS = (RedisError, OSError, RedisClusterException, RuntimeError)
PRESENCE_STALE_MS = 10_000  # a participant not seen for this long is no longer online
HEARTBEAT_MS = 60_000
WAKE_KEEP_MS = 60_000


class FeedStore:
    def __init__(self, store: Store, process_id: str) -> None:
        self.store = store
        self.process_id = process_id
        self._wake = keys.wake_key(process_id)

    async def read(self, positions: dict[str, int], block_ms: int) -> list[tuple[str, list[Event]]]:
        """New events of these workshops (id -> the seq read up to), waiting up to block_ms
        for any (or for a wake): per workshop with any, its events in order."""
        streams: dict[Any, Any] = {self._wake: "$"}
        for wid, seq in positions.items():
            streams[keys.workshop_key(wid, "events")] = f"{seq}-0"
        reply: Any
        if self.store.cluster:
            # No XREAD may cross slots: one per workshop, a pipeline per node, without
            # blocking (the hub reads again after its tick; no wake stream needed).
            del streams[self._wake]
            reply = await read_streams(self.store.blocking, streams, count=1000)
        else:
            reply = await self.store.blocking.xread(streams, count=1000, block=block_ms)
        out = []
        for stream, entries in reply or []:
            name = str(stream)
            if not name.endswith(":events"):
                continue  # the wake stream: it only cut the wait short
            wid = name.split("{", 1)[1].split("}", 1)[0]
            out.append((wid, [parse_entry(eid, fields) for eid, fields in entries]))
        return out

    async def trimmed(self, workshop_id: str, position: int) -> bool:
        """Are events after `position` gone from the stream (trimmed by its MAXLEN)?"""
        oldest = await self.store.oldest_seq(workshop_id)
        return oldest is not None and oldest > position + 1

    async def wake(self) -> None:
        """Cut this process's blocking read short (a new workshop joins the read)."""
        if self.store.cluster:
            return  # the reads there do not block
        await self.store.redis.xadd(self._wake, {"w": "1"}, maxlen=5, approximate=False)
        await self.store.redis.pexpire(self._wake, WAKE_KEEP_MS)

    async def heartbeat(self) -> None:
        """A small write: raises when the store is down, frozen or full (or, while
        REDIS_URL has not answered yet, when it still does not)."""
        await self.store.connected()
        await self.store.redis.set(keys.heartbeat_key(self.process_id), "1", px=HEARTBEAT_MS)

    async def presence(self, workshop_id: str, pids: set[str], now_ms: int) -> int:
        """Mark these participants seen now; the number seen lately (over every process)."""
        key = keys.workshop_key(workshop_id, "presence")
        async with self.store.redis.pipeline(transaction=False) as pipe:
            if pids:
                pipe.zadd(key, dict.fromkeys(pids, now_ms))
            pipe.zremrangebyscore(key, 0, now_ms - PRESENCE_STALE_MS)
            pipe.zcard(key)
            pipe.pexpire(key, self.store.retention_ms)
            replies = await pipe.execute()
        return int(replies[-2])

    async def left(self, workshop_id: str, pid: str) -> None:
        await self.store.redis.zrem(keys.workshop_key(workshop_id, "presence"), pid)

    async def touch_code(self, code: str) -> None:
        await self.store.touch_code(code)

    async def publish(self, payload: bytes) -> None:
        await self.store.redis.publish(keys.CONTROL_CHANNEL, payload)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[bytes | str]]:
        """The control channel's payloads while the connection lasts (raises when it
        drops: the caller reconnects)."""
        if self.store.cluster:  # (a plain SUBSCRIBE there: PUBLISH reaches every node)
            await self.store.redis.initialize()
        async with self.store.redis.pubsub() as pubsub:
            await pubsub.subscribe(keys.CONTROL_CHANNEL)
            yield _payloads(pubsub)


async def _payloads(pubsub: Any) -> AsyncIterator[bytes | str]:
    async for message in pubsub.listen():
        if message.get("type") == "message":
            yield message["data"]

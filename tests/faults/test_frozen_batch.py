"""A batch of script calls (server/batcher.py, packed on one Redis) against a frozen
store (Valkey stopped with SIGSTOP: alive, silent): every call of the batch fails with
redis-py's TimeoutError after the connection's read timeout (one for the whole batch),
and once the store thaws the next batch gets its own replies, not the stale ones of the
batch that timed out (that connection was closed)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.batcher import ScriptBatcher
from server.embedded import EmbeddedValkey
from tests.support.cluster import one_redis_only

pytestmark = one_redis_only

SCRIPT = "return redis.call('INCR', KEYS[1])"


async def test_a_frozen_store_fails_the_whole_batch_then_thaws_cleanly(tmp_path: Path) -> None:
    valkey = EmbeddedValkey(tmp_path / "data", persist=False)
    valkey.start()
    assert valkey.process is not None
    pool = aioredis.BlockingConnectionPool.from_url(
        valkey.url, max_connections=8, timeout=1.0, decode_responses=True,
        socket_timeout=0.5, socket_connect_timeout=1.0, retry_on_timeout=False)
    r = aioredis.Redis(connection_pool=pool)
    batcher = ScriptBatcher(r, r.register_script(SCRIPT))
    try:
        assert await asyncio.gather(*(batcher.call(["n"], []) for _ in range(5))) == [
            1, 2, 3, 4, 5]
        os.kill(valkey.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        replies = await asyncio.gather(*(batcher.call(["n"], []) for _ in range(5)),
                                       return_exceptions=True)
        assert all(isinstance(x, RedisTimeoutError) for x in replies), replies
        assert time.monotonic() - started < 5.0
        os.kill(valkey.process.pid, signal.SIGCONT)
        # The frozen batch's calls ran once Valkey woke up (they were sent); the next
        # batch reads its own replies: ascending, after those.
        again = await asyncio.gather(*(batcher.call(["n"], []) for _ in range(5)))
        assert again == sorted(again) and again[0] > 5 and len(set(again)) == 5, again
        assert await r.get("n") == str(again[-1])
    finally:
        os.kill(valkey.process.pid, signal.SIGCONT)
        await r.aclose()
        valkey.stop()

"""server/batcher.py against a real Redis: calls made together go out in one pipeline,
each still answered on its own, in order, and a lost script or a dead server is
handled as a single call would be."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from server.batcher import MAX_BATCH, ScriptBatcher
from server.store_cluster import cluster_client
from tests.support.cluster import ON_CLUSTER

# Counts the calls on one key; fails on demand, to show that one error stays with its call.
SCRIPT = """
if ARGV[1] == 'fail' then return redis.error_reply('asked to fail') end
return redis.call('INCR', KEYS[1])
"""


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    if ON_CLUSTER:  # the cluster client: a pipeline per node, routed by slot
        cluster: Any = cluster_client(redis_url, 5.0, 5.0)
        yield cluster
        await cluster.aclose()
        return
    name = "batcher-" + secrets.token_hex(4)
    pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=64,
                                                     decode_responses=True, client_name=name)
    r = aioredis.Redis(connection_pool=pool)
    yield r
    await r.aclose()


async def connections_named(r: aioredis.Redis, name: str) -> int:
    return sum(1 for c in await r.client_list() if c.get("name") == name)


async def test_calls_made_together_share_round_trips_and_keep_their_order(
        client: aioredis.Redis) -> None:
    key = "test:batcher:" + secrets.token_hex(6)
    batcher = ScriptBatcher(client, client.register_script(SCRIPT))
    n = 2 * MAX_BATCH + 17
    # Loaded first: on a Redis without it, the pipelines side by side would each load it
    # and send their calls again, and one loaded halfway through another's batch leaves
    # that batch's first calls to run after its last (each still runs once).
    await client.script_load(SCRIPT)
    try:
        replies = await asyncio.gather(*(batcher.call([key], ["ok"]) for _ in range(n)))
        # Every call ran once; within a pipeline in the order made (pipelines side by
        # side interleave, which is fine: a socket has one op in flight at a time).
        assert sorted(replies) == list(range(1, n + 1))
        for start in range(0, n, MAX_BATCH):
            chunk = replies[start:start + MAX_BATCH]
            assert chunk == sorted(chunk)
        if not ON_CLUSTER:
            name = client.connection_pool.connection_kwargs["client_name"]
            # Three pipelines (of at most MAX_BATCH) side by side, not one connection per
            # call.
            assert await connections_named(client, name) <= 3
    finally:
        await client.delete(key)


async def test_an_error_stays_with_its_call(client: aioredis.Redis) -> None:
    key = "test:batcher:" + secrets.token_hex(6)
    batcher = ScriptBatcher(client, client.register_script(SCRIPT))
    try:
        replies = await asyncio.gather(
            *(batcher.call([key], ["fail" if i == 3 else "ok"]) for i in range(8)),
            return_exceptions=True)
        assert isinstance(replies[3], ResponseError) and "asked to fail" in str(replies[3])
        assert [r for i, r in enumerate(replies) if i != 3] == list(range(1, 8))
    finally:
        await client.delete(key)


async def test_a_flushed_script_is_loaded_again(client: aioredis.Redis) -> None:
    key = "test:batcher:" + secrets.token_hex(6)
    # A script of its own (a unique comment), so that flushing it cannot be told apart
    # from Redis having restarted without scripts.
    script = client.register_script(f"-- {key}\n" + SCRIPT)
    batcher = ScriptBatcher(client, script)
    try:
        assert await batcher.call([key], ["ok"]) == 1
        await client.script_flush()
        assert await client.script_exists(script.sha) == [False]
        replies = await asyncio.gather(*(batcher.call([key], ["ok"]) for _ in range(20)))
        assert sorted(replies) == list(range(2, 22))
    finally:
        await client.delete(key)


async def test_a_dead_server_fails_every_call_of_the_batch() -> None:
    r = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    batcher = ScriptBatcher(r, r.register_script(SCRIPT))
    try:
        replies = await asyncio.gather(*(batcher.call(["k"], ["ok"]) for _ in range(5)),
                                       return_exceptions=True)
        assert all(isinstance(x, RedisConnectionError) for x in replies), replies
    finally:
        await r.aclose()

"""server/batcher.py on one Redis packs a batch's script calls itself (`Packer`): the
bytes must be exactly those redis-py would send for the same call, every kind of
argument must reach the script intact, and a cluster keeps redis-py's pipeline. A
join's reads (CommandBatcher) are packed the same way."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from server.batcher import Arg, CommandBatcher, ScriptBatcher
from server.store_cluster import cluster_client
from server.store_core import encoded_keys
from tests.support.cluster import ON_CLUSTER

# Gives back what it was given: the number of keys, then every key and argument.
ECHO = "local out = {#KEYS} for _, k in ipairs(KEYS) do out[#out + 1] = k end " \
       "for _, a in ipairs(ARGV) do out[#out + 1] = a end return out"
# A vote's call as store_core.run makes it: bytes made once, text, JSON, numbers.
ARGS: list[Any] = ["vote", "participant", "p-Zé😀", "p:p-Zé😀:op-1",
                   orjson.dumps({"note_id": "n1", "text": "café ☕"}), Arg(b"86400000"), b"5000",
                   "fresh", 7, 2.5, b"", ""]


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Any]:
    if ON_CLUSTER:
        cluster: Any = cluster_client(redis_url, 5.0, 5.0)
        yield cluster
        await cluster.aclose()
        return
    r = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield r
    await r.aclose()


async def test_a_call_is_packed_as_redis_py_packs_it(client: Any) -> None:
    if ON_CLUSTER:
        pytest.skip("a cluster's batches go through redis-py's own pipeline")
    batcher = ScriptBatcher(client, client.register_script(ECHO))
    assert batcher.packer is not None
    keys = encoded_keys("w-" + secrets.token_hex(4))
    conn = client.connection_pool.make_connection()
    expected = conn.pack_commands([("EVALSHA", batcher.script.sha, len(keys), *keys, *ARGS)])
    assert batcher.packer.call(keys, ARGS) == b"".join(expected)
    assert batcher.packer.call(keys, ARGS) == b"".join(expected)  # the cached head
    wait = conn.pack_commands([("WAIT", 1, 500)])
    assert batcher.packer.command("WAIT", 1, 500) == b"".join(wait)


async def test_every_kind_of_argument_reaches_the_script(client: Any) -> None:
    batcher = ScriptBatcher(client, client.register_script(ECHO))
    wid = "w-" + secrets.token_hex(4)
    keys = encoded_keys(wid)
    replies = await asyncio.gather(*(batcher.call(keys, [*ARGS, str(i)]) for i in range(30)))
    text = [k.decode() for k in keys]
    for i, reply in enumerate(replies):
        assert reply == [len(keys), *text, "vote", "participant", "p-Zé😀", "p:p-Zé😀:op-1",
                         '{"note_id":"n1","text":"café ☕"}', "86400000", "5000", "fresh",
                         "7", "2.5", "", "", str(i)]


async def test_a_call_is_a_future_not_a_coroutine(client: Any) -> None:
    # One frame less to resume for every op (store_core.run awaits it directly).
    batcher = ScriptBatcher(client, client.register_script(ECHO))
    pending = batcher.call(encoded_keys("w-" + secrets.token_hex(4)), ["x"])
    assert isinstance(pending, asyncio.Future)
    assert (await pending)[-1] == "x"


async def test_a_joins_reads_are_packed_and_answered_as_redis_py_answers_them(
        client: Any) -> None:
    # The reads of a join (server/store_*: GET, HGET, HMGET) on one Redis go out packed
    # by CommandBatcher itself; each reply must be what redis-py gives for the command,
    # an error reply stays with its command, and a cluster keeps redis-py's pipeline.
    wid = "w-" + secrets.token_hex(4)
    string, hash_ = f"{{{wid}}}:s", f"{{{wid}}}:h"
    await client.set(string, "café ☕")
    await client.hset(hash_, mapping={"fkey": "f1", "jkey": "j😀"})
    commands: list[tuple[Any, ...]] = [
        ("GET", string), ("GET", f"{{{wid}}}:none"), ("HGET", hash_, "jkey"),
        ("HGET", hash_, "none"), ("HMGET", hash_, "fkey", "vkey"), ("GET", hash_)]
    batcher = CommandBatcher(client)
    if ON_CLUSTER:
        assert batcher.packer is None
    else:
        assert batcher.packer is not None
        conn = client.connection_pool.make_connection()
        for command in commands:
            assert batcher.packer.command(*command) == b"".join(conn.pack_commands([command]))
    expected = [await client.execute_command(*c) for c in commands[:-1]]
    replies = await asyncio.gather(*(batcher.queue(c) for c in commands),
                                   return_exceptions=True)
    assert replies[:-1] == expected == ["café ☕", None, "j😀", None, ["f1", None]]
    assert isinstance(replies[-1], ResponseError) and "WRONGTYPE" in str(replies[-1])
    assert await batcher.call("GET", string) == "café ☕"  # a batch of one

"""The control channel on the real store (server/control.py): a message published by one
process reaches another's subscription; junk on the channel is skipped; a subscription
whose connection drops reconnects by itself and goes on receiving.

The channel is shared by every server on this Redis (pub/sub ignores the db number), so
the test only looks for messages about workshop ids of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from server import keys
from server.control import ControlChannel, Erased, KeysRotated, Message
from server.store import Store
from server.store_feeds import FeedStore

NAME = "samenspel-test-control-" + secrets.token_hex(4)


async def receive(messages: AsyncIterator[Message], out: asyncio.Queue[Message],
                  mine: str) -> None:
    async for message in messages:
        if message.workshop.startswith(mine):
            out.put_nowait(message)


async def until_received(sender: ControlChannel, got: asyncio.Queue[Message],
                         probe: Message, within: float = 10.0) -> None:
    """Publish `probe` until it arrives: the subscription is (again) listening."""
    async with asyncio.timeout(within):
        while True:
            await sender.publish(probe)
            try:
                if await asyncio.wait_for(got.get(), 0.1) == probe:
                    while not got.empty():
                        got.get_nowait()
                    return
            except TimeoutError:
                continue


async def test_messages_cross_processes_junk_is_skipped_and_a_dropped_link_reconnects(
        store: Store, redis_url: str) -> None:
    mine = "ctl-" + secrets.token_hex(4)
    # The receiving "process" has a store of its own, its connections named, so that the
    # test can cut exactly its subscription.
    named = aioredis.Redis.from_url(redis_url, decode_responses=True, client_name=NAME)
    receiver = ControlChannel(FeedStore(Store(named, 3600_000, 1000), "rx"))
    sender = ControlChannel(FeedStore(store, "tx"))
    got: asyncio.Queue[Message] = asyncio.Queue()
    try:
        async with receiver.subscribe() as messages:
            task = asyncio.create_task(receive(messages, got, mine))
            await until_received(sender, got, Erased(mine + "-probe"))
            await store.redis.publish(keys.CONTROL_CHANNEL, b"not json")
            await store.redis.publish(keys.CONTROL_CHANNEL,
                                      b'{"type": "shutdown", "workshop": "' + mine.encode() + b'"}')
            await sender.publish(KeysRotated(mine + "-a"))
            await sender.publish(Erased(mine + "-b"))
            assert await asyncio.wait_for(got.get(), 5) == KeysRotated(mine + "-a")
            assert await asyncio.wait_for(got.get(), 5) == Erased(mine + "-b")
            assert task.done() is False  # the junk did not end the subscription

            # Cut the subscription's connection (only ours: found by its name).
            # (Asked of the node REDIS_URL names, where the receiver subscribed: on a
            # cluster the store's own client would not know which node to ask.)
            listed = await named.client_list(_type="pubsub")
            ours = [c["id"] for c in listed if c.get("name") == NAME]
            assert ours
            for cid in ours:
                await named.execute_command("CLIENT", "KILL", "ID", cid)
            await until_received(sender, got, Erased(mine + "-probe-2"))
            await sender.publish(Erased(mine + "-c"))
            assert await asyncio.wait_for(got.get(), 5) == Erased(mine + "-c")
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Leaving the block closed the subscription: its connection is gone.
        listed = await named.client_list(_type="pubsub")
        assert [c for c in listed if c.get("name") == NAME] == []
    finally:
        await named.aclose()

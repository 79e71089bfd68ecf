"""Asking for workshops that do not exist leaves nothing behind (docs/security.md).

Anyone may send a hello with a made-up workshop id, without logging in, also from an
address over the failure limit. Each such request must cost nothing that stays: no
entry in the hub's maps, no key in Redis. A Hub on the real store, in this process, so
that its maps can be read.
"""

from __future__ import annotations

import asyncio
import secrets

from server.args import clean_workshop
from server.hub import Hub
from server.store import Store
from tests.support import CREATED


async def test_ten_thousand_unknown_ids_leave_nothing(store: Store) -> None:
    hub = Hub(store, tick_seconds=0.03, queue_max=16)
    prefix = "unknown" + secrets.token_hex(4)
    ids = [f"{prefix}-{i}" for i in range(10_000)]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        # Each id asked for twice at once: the shared load, then nothing left of it.
        found = await asyncio.gather(*(hub.feed(wid) for wid in chunk + chunk))
        assert found == [None] * (2 * len(chunk))
    assert hub._loads.pending == {}
    assert hub.feeds == {}
    written = [k async for k in store.redis.scan_iter(match=f"ws:{{{prefix}*", count=1000)]
    assert written == []


async def test_callers_at_once_share_one_feed(store: Store) -> None:
    created = await store.create_workshop(clean_workshop({"title": "T", "prompts": ["V"]}))
    CREATED.append(created["id"])
    hub = Hub(store, tick_seconds=0.03, queue_max=16)
    feeds = await asyncio.gather(*(hub.feed(created["id"]) for _ in range(50)))
    assert feeds[0] is not None
    assert all(f is feeds[0] for f in feeds)
    assert hub._loads.pending == {}
    assert hub.feeds == {created["id"]: feeds[0]}
    # No socket attached (say its key was wrong): it counts as empty, to be dropped.
    assert feeds[0].empty_since is not None


async def test_a_caller_that_goes_away_does_not_cancel_the_shared_load(store: Store) -> None:
    created = await store.create_workshop(clean_workshop({"title": "T", "prompts": ["V"]}))
    CREATED.append(created["id"])
    hub = Hub(store, tick_seconds=0.03, queue_max=16)
    first = asyncio.ensure_future(hub.feed(created["id"]))
    second = asyncio.ensure_future(hub.feed(created["id"]))
    await asyncio.sleep(0)  # both are waiting on the one load now
    first.cancel()
    feed = await second
    assert feed is not None and feed.workshop_id == created["id"]
    assert hub._loads.pending == {}

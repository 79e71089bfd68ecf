"""Who is online: each second, every process marks the participants it has sockets for
as seen (a sorted set per workshop, in the store), and tells its sockets the count over
every process when it changes. The same round writes a heartbeat, so that a store that
is frozen or full (and back again) is noticed even when nobody acts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping

import orjson

from server.feed import Feed
from server.store_feeds import FEED_ERRORS, FeedStore
from server.store_health import StoreHealth

log = logging.getLogger("samenspel.hub")

PRESENCE_SECONDS = 1.0


class Presence:
    def __init__(self, io: FeedStore, health: StoreHealth, feeds: Mapping[str, Feed]) -> None:
        self.io = io
        self.health = health
        self.feeds = feeds
        self.closing = False

    async def run(self, each_second: Callable[[], None]) -> None:
        """Every PRESENCE_SECONDS: the heartbeat, `each_second` (the hub's sweep), a round."""
        while not self.closing:
            await asyncio.sleep(PRESENCE_SECONDS)
            try:
                await self.io.heartbeat()
                self.health.answered()
                each_second()
                await self._round()
            except asyncio.CancelledError:
                raise
            except FEED_ERRORS:
                self.health.failed()
            except Exception:
                log.exception("presence round failed")

    async def _round(self) -> None:
        now_ms = int(time.time() * 1000)
        for wid, feed in list(self.feeds.items()):
            pids = {c.viewer.pid for c in feed.clients if c.viewer.pid}
            online = await self.io.presence(wid, pids, now_ms)
            if feed.clients:
                await self.io.touch_code(feed.room["workshop"]["code"])
            if online != feed.online:
                feed.online = online
                feed.room["online"] = online
                feed.broadcast(orjson.dumps({
                    "type": "presence",
                    "participants": {"count": len(feed.room["participants"]), "online": online},
                }))

    async def left(self, workshop_id: str, pid: str) -> None:
        """A participant's socket here closed: if it was its last, not online from here."""
        feed = self.feeds.get(workshop_id)
        if feed and not any(c.viewer.pid == pid for c in feed.clients):
            with contextlib.suppress(*FEED_ERRORS):
                await self.io.left(workshop_id, pid)

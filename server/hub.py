"""Fan-out: each process reads the event streams of the workshops it has sockets for and
sends the events, batched per tick and filtered per role, to its own sockets.

One task per process blocks on one XREAD over every active stream (plus a wake stream,
so that a newly opened workshop joins the read at once). Each workshop has a Feed
(server/feed.py): the room mirror, its sockets, how a batch reaches them. The hub keeps
the feeds, reads for them and hands them their events; its other jobs are modules of
their own: presence (server/presence.py), the store's health (server/store_health.py),
the control channel between processes (server/control.py), its Redis
(server/store_feeds.py), and when phones get their batch (server/phone_batches.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time

from server import metrics
from server.backoff import Backoff
from server.control import ControlChannel, Erased, KeysRotated, Message
from server.events import Event
from server.fanout import Client, Closer, SlowClient
from server.feed import Feed
from server.phone_batches import PhoneBatches, block_ms
from server.presence import Presence
from server.shared_loads import SharedLoads
from server.sort_worker import SortWorker
from server.store import BLOCK_MAX_MS, Store, new_id
from server.store_feeds import FEED_ERRORS, FeedStore
from server.store_health import StoreHealth

log = logging.getLogger("samenspel.hub")

EMPTY_FEED_SECONDS = 60.0

__all__ = ["Client", "Feed", "Hub", "SlowClient"]


class Hub:
    def __init__(self, store: Store, tick_seconds: float, queue_max: int,
                 phone_window_per_socket: float = 0.000075) -> None:
        self.store = store
        self.tick = tick_seconds
        self._phones = functools.partial(PhoneBatches, tick_seconds, phone_window_per_socket)
        self.queue_max = queue_max
        self.feeds: dict[str, Feed] = {}
        self.io = FeedStore(store, new_id())
        self.health = StoreHealth(self.feeds)
        self.presence = Presence(self.io, self.health, self.feeds)
        self.control = ControlChannel(self.io)
        self._loads: SharedLoads[str, Feed | None] = SharedLoads()
        self._closer = Closer()
        self._tasks: list[asyncio.Task[None]] = []
        self.closing = False
        self.sorting = SortWorker()  # the sorting help's model: it embeds notes as they come
        # What sockets and routes call, done by the module whose job it is (the sockets
        # report their ops' store errors to the store's health too).
        self.store_answered = self.health.answered
        self.store_failed = self.health.failed
        self.participant_left = self.presence.left
        self.publish = self.control.publish  # e.g. hub.publish(Erased(workshop_id))

    @property
    def store_ok(self) -> bool:
        return self.health.ok

    # ----------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="hub-read"),
            asyncio.create_task(self.presence.run(self._sweep), name="hub-presence"),
            asyncio.create_task(self._control_loop(), name="hub-control"),
        ]

    async def stop(self) -> None:
        self.closing = self.presence.closing = self.control.closing = True
        for feed in list(self.feeds.values()):
            for client in list(feed.clients):
                await self._closer.close(client, 1012, "server restart")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------- sockets
    async def feed(self, workshop_id: str) -> Feed | None:
        """The feed of a workshop, loading its room on first use (None: no workshop)."""
        return self.feeds.get(workshop_id) or await self._loads.get(workshop_id, self._load)

    async def _load(self, workshop_id: str) -> Feed | None:
        feed = self.feeds.get(workshop_id)
        if feed is None:
            room = await self.store.load(workshop_id)
            if room is None:
                return None
            # Empty until a socket is attached (a hello refused after the load: swept).
            feed = Feed(workshop_id, room, self._phones(), self._closer.later,
                        empty_since=time.monotonic(), warm=self.sorting.warm)
            self.feeds[workshop_id] = feed
            with contextlib.suppress(*FEED_ERRORS):
                await self.io.wake()
        return feed

    def attach(self, feed: Feed, client: Client) -> None:
        """Start sending live events after client.last_seq. Call with no await between
        the caller's catch-up and this, so that no event falls in between."""
        client.sent_seq = max(client.sent_seq, client.last_seq)
        feed.clients.add(client)
        feed.empty_since = None

    def detach(self, feed: Feed, client: Client) -> None:
        feed.clients.discard(client)
        if not feed.clients:
            feed.empty_since = time.monotonic()

    def _sweep(self) -> None:
        """Each second: drop feeds long empty; send summaries whose second is up."""
        now = time.monotonic()
        for wid, feed in list(self.feeds.items()):
            if feed.empty_since is not None and now - feed.empty_since > EMPTY_FEED_SECONDS:
                self.feeds.pop(wid, None)
            else:
                feed.send_held()

    # ------------------------------------------------------------- reading
    async def _read_loop(self) -> None:
        backoff = Backoff()
        while not self.closing:
            positions = {wid: feed.position for wid, feed in self.feeds.items()}
            wait = block_ms((f.phones.wait() for f in self.feeds.values()), BLOCK_MAX_MS)
            try:
                reply, read_at = await self.io.read(positions, wait), time.monotonic()
                self.health.answered(read=True)
                backoff.reset()
            except FEED_ERRORS as exc:
                self.health.failed(read=True)
                log.warning("event read failed (%s); retry in %.1fs",
                            type(exc).__name__, backoff.next)
                await backoff.sleep()
                continue
            for wid, events in reply:
                found = self.feeds.get(wid)
                if found is None:
                    continue
                try:
                    await self._deliver(found, events, read_at)
                except Exception:  # a bad event must not stop the fan-out for all
                    log.exception("fan-out failed for a workshop; resyncing its clients")
                    await self._drop(found, 4408, "resync", "fanout_error")
            for feed in list(self.feeds.values()):
                try:
                    await feed.send_phones()
                except Exception:
                    log.exception("fan-out to phones failed for a workshop; resyncing")
                    await self._drop(feed, 4408, "resync", "fanout_error")
            await asyncio.sleep(self.tick)

    async def _deliver(self, feed: Feed, events: list[Event], read_at: float) -> None:
        events = [e for e in events if e.seq > feed.position]
        if not events:
            return
        if events[0].seq != feed.position + 1 and await self.io.trimmed(
                feed.workshop_id, feed.position):
            await self._drop(feed, 4408, "resync", "trimmed")  # it reconnects: a fresh state
            return
        feed.deliver(events, read_at)

    async def _drop(self, feed: Feed, code: int, reason: str, resync: str = "") -> None:
        metrics.resynced(resync, len(feed.clients) if resync else 0)  # why, for /metrics
        self.feeds.pop(feed.workshop_id, None)
        for client in list(feed.clients):
            await self._closer.close(client, code, reason)

    # ------------------------------------------------------------- control
    async def _control_loop(self) -> None:
        async with self.control.subscribe() as messages:
            async for message in messages:
                try:
                    await self._on_control(message)
                except Exception:
                    log.exception("control message failed")

    async def _on_control(self, message: Message) -> None:
        feed = self.feeds.get(message.workshop)
        if feed is not None and isinstance(message, Erased):
            await self._drop(feed, 4410, "erased")
        elif feed is not None and isinstance(message, KeysRotated):
            for client in [c for c in feed.clients if c.viewer.role != "participant"]:
                await self._closer.close(client, 4401, "keys rotated")

"""Fan-out: each process reads the event streams of the workshops it has sockets for and
sends the events, batched per tick and filtered per role, to its own sockets.

One task per process blocks on one XREAD over every active stream (plus a wake stream,
so that a newly opened workshop joins the read at once). Each workshop has a Feed: the
room mirror (server/room.py) kept current by the same events, its sockets, and the seq
up to which they were served. A batch is serialised once per audience (facilitator,
projector, participants), and again only for a participant an event is about.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.exceptions import RedisError

from server import keys
from server.events import Event
from server.fanout import (
    Batch,
    Client,
    Item,
    Prepared,
    SlowClient,
    fill,
    frame,
    is_summary,
    own_note_authors,
)
from server.protocol import status_frame
from server.room import Room, apply_event, subject_of
from server.store import BLOCK_MAX_MS, Store, new_id, parse_entry
from server.views import (
    FACILITATOR,
    PARTICIPANT_COUNT,
    PARTICIPANTS,
    PROJECTOR,
    VOTES_SUMMARY,
    Viewer,
    view_event,
)

log = logging.getLogger("samenspel.hub")

PRESENCE_SECONDS = 1.0
# Phones get others' summaries (vote progress, the participant count) at most this often.
SUMMARY_SECONDS = 1.0
# Phones get their batch with the wall's in a small room, and in a big room less often:
# a fan-out costs the process time per socket, so the batch window grows with the room
# once it is longer than a tick (setting PHONE_WINDOW_PER_SOCKET, 75 µs: from 400 phones;
# 2,000 phones: 0.15 s), up to PHONE_WINDOW_MAX. The wall and the control screen get every tick.
PHONE_WINDOW_MAX = 0.25
# Phones are handed their frames this many at a time, with a turn of the event loop in
# between, so that acks and the wall's frames are not queued behind a whole room.
PUSH_CHUNK = 200
PRESENCE_STALE_MS = 10_000
EMPTY_FEED_SECONDS = 60.0
MARKERS = {"votes_changed": VOTES_SUMMARY, "participant_changed": PARTICIPANT_COUNT}

__all__ = ["Client", "Feed", "Hub", "SlowClient"]


@dataclass(eq=False)
class Feed:
    workshop_id: str
    room: Room
    clients: set[Client] = field(default_factory=set)
    empty_since: float | None = None
    online: int = 0
    phones: Batch = field(default_factory=Batch)  # events cut for phones, not sent yet
    summaries_at: float = 0.0  # when phones last got others' summaries
    summaries_held: dict[str, int] = field(default_factory=dict)  # kind -> seq held back

    @property
    def position(self) -> int:
        seq: int = self.room["seq"]
        return seq


class Hub:
    def __init__(self, store: Store, tick_seconds: float, queue_max: int,
                 phone_window_per_socket: float = 0.000075) -> None:
        self.store = store
        self.tick = tick_seconds
        self.phone_window_per_socket = phone_window_per_socket
        self.queue_max = queue_max
        self.feeds: dict[str, Feed] = {}
        self.process_id = new_id()
        self._loading: dict[str, asyncio.Future[Feed | None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self.closing = False
        # Whether the store reads and takes writes now; every screen is told when this
        # changes (a `status` frame) so that it can show the calm try-again state.
        self.store_ok = True
        self._reads_ok = True
        self._writes_ok = True

    # ----------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="hub-read"),
            asyncio.create_task(self._presence_loop(), name="hub-presence"),
            asyncio.create_task(self._control_loop(), name="hub-control"),
        ]

    async def stop(self) -> None:
        self.closing = True
        for feed in list(self.feeds.values()):
            for client in list(feed.clients):
                await self._close(client, 1012, "server restart")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ------------------------------------------------------------- sockets
    async def feed(self, workshop_id: str) -> Feed | None:
        """The feed of a workshop, loading its room on first use (None: no workshop)."""
        feed = self.feeds.get(workshop_id)
        if feed is not None:
            return feed
        # Callers that ask at the same time share one load; the entry goes when that load
        # ends, found or not, failed or cancelled: an unknown id leaves nothing behind.
        loading = self._loading.get(workshop_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(workshop_id))
            self._loading[workshop_id] = loading
            loading.add_done_callback(functools.partial(self._loaded, workshop_id))
        # shield: one caller that goes away (its socket closed) does not cancel the load
        # that the others wait for.
        return await asyncio.shield(loading)

    def _loaded(self, workshop_id: str, loading: asyncio.Future[Feed | None]) -> None:
        if self._loading.get(workshop_id) is loading:
            del self._loading[workshop_id]
        if not loading.cancelled():
            loading.exception()  # retrieved: each waiting caller got it already

    async def _load(self, workshop_id: str) -> Feed | None:
        feed = self.feeds.get(workshop_id)
        if feed is None:
            room = await self.store.load(workshop_id)
            if room is None:
                return None
            # Empty until a socket is attached: a hello refused after the load (a wrong
            # key) leaves a feed that the presence loop drops like any empty one.
            feed = Feed(workshop_id, room, empty_since=time.monotonic())
            self.feeds[workshop_id] = feed
            await self._wake()
        return feed

    async def _wake(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            key = keys.wake_key(self.process_id)
            await self.store.redis.xadd(key, {"w": "1"}, maxlen=5, approximate=False)
            await self.store.redis.pexpire(key, 60_000)

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

    async def _close(self, client: Client, code: int, reason: str) -> None:
        client.dropped = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(code, reason), 5.0)

    def _close_later(self, client: Client, code: int, reason: str) -> None:
        """Close without waiting: a stuck socket must not hold up the fan-out."""
        client.dropped = True
        task = asyncio.create_task(self._close(client, code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # ------------------------------------------------------------- store state
    def store_answered(self, *, read: bool = False) -> None:
        """The store just did what was asked (a write; or, with read=True, the read)."""
        if read:
            self._reads_ok = True
        else:
            self._writes_ok = True
        self._update_store_state()

    def store_failed(self, *, read: bool = False) -> None:
        """The store was down, frozen or full for a write (or, with read=True, the read)."""
        if read:
            self._reads_ok = False
        else:
            self._writes_ok = False
        self._update_store_state()

    def _update_store_state(self) -> None:
        ok = self._reads_ok and self._writes_ok
        if ok == self.store_ok:
            return
        self.store_ok = ok
        log.warning("store %s", "is back" if ok else "cannot save now")
        msg = status_frame(ok)
        for feed in self.feeds.values():
            for client in list(feed.clients):
                with contextlib.suppress(SlowClient):
                    client.push(msg)

    # ------------------------------------------------------------- reading
    async def _read_loop(self) -> None:
        backoff = 0.1
        while not self.closing:
            streams: dict[Any, Any] = {keys.wake_key(self.process_id): "$"}
            for wid, feed in self.feeds.items():
                streams[keys.workshop_key(wid, "events")] = f"{feed.position}-0"
            try:
                reply: Any = await self.store.blocking.xread(streams, count=1000,
                                                             block=self._block_ms())
                self.store_answered(read=True)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self.store_failed(read=True)
                log.warning("event read failed (%s); retry in %.1fs", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            for stream, entries in reply or []:
                name = str(stream)
                if not name.endswith(":events"):
                    continue
                wid = name.split("{", 1)[1].split("}", 1)[0]
                found = self.feeds.get(wid)
                if found is None:
                    continue
                feed = found
                events = [parse_entry(eid, fields) for eid, fields in entries]
                try:
                    await self._deliver(feed, events)
                except Exception:  # a bad event must not stop the fan-out for all
                    log.exception("fan-out failed for a workshop; resyncing its clients")
                    await self._resync(feed)
            for feed in list(self.feeds.values()):
                try:
                    await self._send_phones(feed)
                except Exception:
                    log.exception("fan-out to phones failed for a workshop; resyncing")
                    await self._resync(feed)
            await asyncio.sleep(self.tick)

    def _phone_window(self, phones: int) -> float:
        """0 (with the wall, this tick) in a room small enough to fan out within a tick."""
        window = min(PHONE_WINDOW_MAX, phones * self.phone_window_per_socket)
        return window if window > self.tick else 0.0

    def _block_ms(self) -> int:
        """How long the read may wait for new events: until the next phone batch is due."""
        now = time.monotonic()
        due = [f.phones.due - now for f in self.feeds.values() if f.phones.due is not None]
        if not due:
            return BLOCK_MAX_MS
        return max(1, int(min(due) * 1000) + 1)

    async def _resync(self, feed: Feed) -> None:
        """Drop the room and its clients; they reconnect and get a fresh state."""
        self.feeds.pop(feed.workshop_id, None)
        for client in list(feed.clients):
            await self._close(client, 4408, "resync")

    async def _deliver(self, feed: Feed, events: list[Event]) -> None:
        """Apply new events to the room; the wall and the control screen get them now,
        phones' cut goes into their batch (sent by _send_phones)."""
        events = [e for e in events if e.seq > feed.position]
        if not events:
            return
        if events[0].seq != feed.position + 1:
            oldest = await self.store.oldest_seq(feed.workshop_id)
            if oldest is not None and oldest > feed.position + 1:
                await self._resync(feed)
                return
        room = feed.room
        pids: set[str | None] = set()
        staff: list[Client] = []  # a few sockets: walls and control screens
        for c in feed.clients:
            if c.viewer.role == "participant":
                pids.add(c.viewer.pid)
            else:
                staff.append(c)
        roles = {c.viewer.role for c in staff}
        fac: list[Item] = []
        proj: list[Item] = []
        phones = feed.phones
        for ev in events:
            apply_event(room, ev)
            if ev.kind == "participant_removed":
                self._close_removed(feed, ev.data["participant_id"])
            cache: dict[str, Any] = {}
            if "facilitator" in roles:
                fac.append((ev.seq, ev.kind, view_event(room, ev, FACILITATOR, cache)))
            if "projector" in roles:
                proj.append((ev.seq, ev.kind, view_event(room, ev, PROJECTOR, cache)))
            if pids:
                phones.items.append((ev.seq, ev.kind, view_event(room, ev, PARTICIPANTS, cache)))
                subjects = own_note_authors(room, ev) | {subject_of(ev) or ""}
                for subject in subjects & pids:
                    data = view_event(room, ev, Viewer("participant", subject), cache)
                    phones.own.setdefault(subject, {})[len(phones.items) - 1] = data
        if phones.items and phones.due is None:  # the window is reckoned once per batch
            phones.due = time.monotonic() + self._phone_window(len(pids))
        final: dict[str, Any] = {}
        for items, viewer in ((fac, FACILITATOR), (proj, PROJECTOR)):
            if items:
                prepared = Prepared(items, {}, room, viewer, final)
                for client in staff:
                    if client.viewer.role == viewer.role:
                        self._push(prepared, client)

    def _close_removed(self, feed: Feed, pid: str) -> None:
        """A removed participant's sockets, in every process: its token is gone (4401)."""
        for client in list(feed.clients):
            if client.viewer.pid == pid and not client.dropped:
                self._close_later(client, 4401, "removed")

    async def _send_phones(self, feed: Feed) -> None:
        """Send the phones' batch once its window has passed."""
        batch = feed.phones
        if not batch.items or batch.due is None:
            return
        if time.monotonic() < batch.due:
            return
        feed.phones = Batch()
        held = self._hold_summaries(feed, batch.items)
        prepared = Prepared(batch.items, batch.own, feed.room, PARTICIPANTS, {},
                            hold=bool(held))
        phones = [c for c in feed.clients if c.viewer.role == "participant"]
        for start in range(0, len(phones), PUSH_CHUNK):
            if start:
                await asyncio.sleep(0)
            for client in phones[start:start + PUSH_CHUNK]:
                self._push(prepared, client)
        feed.summaries_held.update(held)

    def _push(self, prepared: Prepared, client: Client) -> None:
        if client.dropped or client.last_seq >= prepared.last:
            return
        data, newest = prepared.frame_for(client)
        client.last_seq = prepared.last
        if data is None:
            return
        # The newest seq actually sent, not the batch's last: what was held back (or not
        # for this client) may still be sent to it later, in order.
        client.sent_seq = newest
        try:
            client.push(data)
        except SlowClient:
            log.info("dropping a client that does not keep up")
            self._close_later(client, 4408, "too slow")

    def _hold_summaries(self, feed: Feed, items: list[Item]) -> dict[str, int]:
        """Others' summaries reach phones at most once per SUMMARY_SECONDS. A batch of
        nothing else for the phones (voters' and joiners' own events aside) inside that
        time has them held back: returns them (kind -> seq), for the presence loop to
        send (`_send_held`). A batch that goes out first sends what was held and that it
        does not itself supersede (their seqs are older than its items)."""
        now = time.monotonic()
        summaries = {k: s for s, k, d in items if is_summary(d)}
        others = any(d is not None and not is_summary(d) for _, _, d in items)
        if summaries and not others and now - feed.summaries_at < SUMMARY_SECONDS:
            return summaries
        for kind in summaries:
            feed.summaries_held.pop(kind, None)
        if feed.summaries_held:
            self._send_held(feed, now=True)
        if summaries:
            feed.summaries_at = now
        return {}

    def _send_held(self, feed: Feed, *, now: bool = False) -> None:
        """Send the summaries held back, once SUMMARY_SECONDS have passed (or `now`)."""
        if not feed.summaries_held or (
                not now and time.monotonic() - feed.summaries_at < SUMMARY_SECONDS):
            return
        held, feed.summaries_held = feed.summaries_held, {}
        feed.summaries_at = time.monotonic()
        cache: dict[str, Any] = {}
        items = sorted((s, k, fill(feed.room, MARKERS[k], PARTICIPANTS, cache))
                       for k, s in held.items())
        shared = frame(items)
        # By sent_seq, not last_seq: a phone that was passed over while these were held
        # back has been sent nothing newer, and gets them now.
        for client in list(feed.clients):
            if client.viewer.role != "participant" or client.sent_seq >= items[-1][0]:
                continue
            data = shared if client.sent_seq < items[0][0] else frame(
                [x for x in items if x[0] > client.sent_seq])
            client.sent_seq = items[-1][0]
            try:
                client.push(data)
            except SlowClient:
                self._close_later(client, 4408, "too slow")

    # ------------------------------------------------------------ presence
    async def _presence_loop(self) -> None:
        while not self.closing:
            await asyncio.sleep(PRESENCE_SECONDS)
            try:
                # A write each second: it notices a store that is frozen or full (and
                # back again) even when nobody acts.
                await self.store.redis.set(keys.heartbeat_key(self.process_id), "1",
                                           px=60_000)
                self.store_answered()
                await self._presence_round()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                self.store_failed()
            except Exception:
                log.exception("presence round failed")

    async def _presence_round(self) -> None:
        now_ms = int(time.time() * 1000)
        now = time.monotonic()
        for wid, feed in list(self.feeds.items()):
            if feed.empty_since is not None and now - feed.empty_since > EMPTY_FEED_SECONDS:
                self.feeds.pop(wid, None)
                continue
            self._send_held(feed)
            pids = {c.viewer.pid for c in feed.clients if c.viewer.pid}
            key = keys.workshop_key(wid, "presence")
            async with self.store.redis.pipeline(transaction=False) as pipe:
                if pids:
                    pipe.zadd(key, dict.fromkeys(pids, now_ms))
                pipe.zremrangebyscore(key, 0, now_ms - PRESENCE_STALE_MS)
                pipe.zcard(key)
                pipe.pexpire(key, self.store.retention_ms)
                replies = await pipe.execute()
            online = int(replies[-2])
            if feed.clients:
                await self.store.touch_code(feed.room["workshop"]["code"])
            if online != feed.online:
                feed.online = online
                feed.room["online"] = online
                msg = orjson.dumps({
                    "type": "presence",
                    "participants": {"count": len(feed.room["participants"]), "online": online},
                })
                for client in list(feed.clients):
                    with contextlib.suppress(SlowClient):
                        client.push(msg)

    async def participant_left(self, workshop_id: str, pid: str) -> None:
        feed = self.feeds.get(workshop_id)
        if feed and not any(c.viewer.pid == pid for c in feed.clients):
            with contextlib.suppress(RedisError, OSError):
                await self.store.redis.zrem(keys.workshop_key(workshop_id, "presence"), pid)

    # ------------------------------------------------------------- control
    async def publish(self, message: dict[str, Any]) -> None:
        await self.store.redis.publish(keys.CONTROL_CHANNEL, orjson.dumps(message))

    async def _control_loop(self) -> None:
        backoff = 0.1
        while not self.closing:
            try:
                async with self.store.redis.pubsub() as pubsub:
                    await pubsub.subscribe(keys.CONTROL_CHANNEL)
                    backoff = 0.1
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            await self._on_control(message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:
                log.exception("control message failed")
                await asyncio.sleep(backoff)

    async def _on_control(self, raw: str | bytes) -> None:
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            log.warning("ignored a malformed control message")
            return
        feed = self.feeds.get(str(msg.get("workshop")))
        if feed is None:
            return
        if msg.get("type") == "erased":
            self.feeds.pop(feed.workshop_id, None)
            for client in list(feed.clients):
                await self._close(client, 4410, "erased")
        elif msg.get("type") == "keys_rotated":
            for client in list(feed.clients):
                if client.viewer.role != "participant":
                    await self._close(client, 4401, "keys rotated")

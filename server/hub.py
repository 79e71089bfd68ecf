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
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.exceptions import RedisError

from server import keys
from server.room import Room, apply_event, subject_of
from server.store import Event, Store, new_id, parse_entry
from server.views import (
    FACILITATOR,
    PARTICIPANTS,
    PROJECTOR,
    VOTES_SUMMARY,
    Viewer,
    note_visible,
    view_event,
    view_votes,
)

log = logging.getLogger("samenspel.hub")

PRESENCE_SECONDS = 1.0
# Phones get others' vote progress (voters, or totals where visible) at most this often.
PARTICIPANT_VOTES_SECONDS = 1.0
PRESENCE_STALE_MS = 10_000
EMPTY_FEED_SECONDS = 60.0


class SlowClient(Exception):
    """A client whose send queue is full: it is dropped and resyncs on reconnect."""


@dataclass(eq=False)
class Client:
    """One socket, as the hub sees it."""

    viewer: Viewer
    send: Callable[[bytes], Awaitable[None]]
    close: Callable[[int, str], Awaitable[None]]
    queue_max: int
    last_seq: int = 0  # events up to here are done for this client (sent or filtered)
    sent_seq: int = 0  # no event sent to it has a higher seq (keeps late frames in order)
    queue: asyncio.Queue[bytes | None] = field(init=False)
    dropped: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.queue_max)

    def push(self, frame: bytes) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.dropped = True
            raise SlowClient from None

    async def pump(self) -> None:
        """Send queued frames in order until None or a send fails."""
        while True:
            frame = await self.queue.get()
            if frame is None:
                return
            await self.send(frame)


@dataclass(eq=False)
class Feed:
    workshop_id: str
    room: Room
    clients: set[Client] = field(default_factory=set)
    empty_since: float | None = None
    online: int = 0
    participant_votes_at: float = 0.0  # when phones last got others' vote progress
    participant_votes_pending: int = 0  # seq of a vote they have not heard of yet

    @property
    def position(self) -> int:
        seq: int = self.room["seq"]
        return seq


def frame(events: list[tuple[int, str, Any]]) -> bytes:
    return orjson.dumps(
        {"type": "events", "events": [{"seq": s, "kind": k, "data": d} for s, k, d in events]}
    )


def own_note_authors(room: Room, ev: Event) -> set[str]:
    """Authors of notes that a cluster event moves but the shared participants' view
    leaves out (hidden notes; private writing while collecting): each author still
    sees its own notes, so it gets the event cut for itself."""
    if ev.kind not in ("cluster_changed", "cluster_deleted"):
        return set()
    notes = room["notes"]
    return {notes[nid]["author_id"] for nid in ev.data.get("assign", {})
            if nid in notes and notes[nid].get("author_id")
            and not note_visible(room, notes[nid], PARTICIPANTS)}


def coalesce_votes(
    items: list[tuple[int, str, Any]], room: Room, viewer: Viewer, cache: dict[str, Any]
) -> list[tuple[int, str, Any]]:
    """Keep only the last vote summary of a batch, filled in with the totals after it."""
    last = max((i for i, (_, _, d) in enumerate(items) if d is VOTES_SUMMARY), default=-1)
    out = []
    for i, (s, k, d) in enumerate(items):
        if d is VOTES_SUMMARY:
            if i == last:
                out.append((s, k, view_votes(room, viewer, cache)))
        else:
            out.append((s, k, d))
    return out


class Hub:
    def __init__(self, store: Store, tick_seconds: float, queue_max: int) -> None:
        self.store = store
        self.tick = tick_seconds
        self.queue_max = queue_max
        self.feeds: dict[str, Feed] = {}
        self.process_id = new_id()
        self._loading: dict[str, asyncio.Lock] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self.closing = False
        self.store_ok = True

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
        lock = self._loading.setdefault(workshop_id, asyncio.Lock())
        async with lock:
            feed = self.feeds.get(workshop_id)
            if feed is None:
                room = await self.store.load(workshop_id)
                if room is None:
                    return None
                feed = Feed(workshop_id, room)
                self.feeds[workshop_id] = feed
                await self._wake()
        self._loading.pop(workshop_id, None)
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

    # ------------------------------------------------------------- reading
    async def _read_loop(self) -> None:
        backoff = 0.1
        while not self.closing:
            streams: dict[Any, Any] = {keys.wake_key(self.process_id): "$"}
            for wid, feed in self.feeds.items():
                streams[keys.workshop_key(wid, "events")] = f"{feed.position}-0"
            try:
                reply: Any = await self.store.redis.xread(streams, count=1000, block=5000)
                self.store_ok = True
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self.store_ok = False
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
            await asyncio.sleep(self.tick)

    async def _resync(self, feed: Feed) -> None:
        """Drop the room and its clients; they reconnect and get a fresh state."""
        self.feeds.pop(feed.workshop_id, None)
        for client in list(feed.clients):
            await self._close(client, 4408, "resync")

    async def _deliver(self, feed: Feed, events: list[Event]) -> None:
        events = [e for e in events if e.seq > feed.position]
        if not events:
            return
        if events[0].seq != feed.position + 1:
            oldest = await self.store.oldest_seq(feed.workshop_id)
            if oldest is not None and oldest > feed.position + 1:
                await self._resync(feed)
                return
        if feed.participant_votes_pending and any(e.kind != "votes_changed" for e in events):
            # Phones are about to get later events: a vote progress held back must reach
            # them first (after them, its older seq could no longer be sent).
            self._flush_participant_votes(feed, force=True)
        room = feed.room
        clients = list(feed.clients)
        pids = {c.viewer.pid for c in clients if c.viewer.role == "participant"}
        roles = {c.viewer.role for c in clients}
        fac: list[tuple[int, str, Any]] = []
        proj: list[tuple[int, str, Any]] = []
        common: list[tuple[int, str, Any]] = []
        own: dict[str, dict[int, Any]] = {}
        for ev in events:
            apply_event(room, ev)
            cache: dict[str, Any] = {}
            if "facilitator" in roles:
                fac.append((ev.seq, ev.kind, view_event(room, ev, FACILITATOR, cache)))
            if "projector" in roles:
                proj.append((ev.seq, ev.kind, view_event(room, ev, PROJECTOR, cache)))
            if pids:
                common.append((ev.seq, ev.kind, view_event(room, ev, PARTICIPANTS, cache)))
                subjects = own_note_authors(room, ev) | {subject_of(ev) or ""}
                for subject in subjects & pids:
                    data = view_event(room, ev, Viewer("participant", subject), cache)
                    own.setdefault(subject, {})[len(common) - 1] = data
        if common:
            common = self._throttle_participant_votes(feed, common)
        final: dict[str, Any] = {}
        frames: dict[str, bytes | None] = {}

        def ready(items: list[tuple[int, str, Any]], viewer: Viewer) -> bytes | None:
            kept = [x for x in coalesce_votes(items, room, viewer, final) if x[2] is not None]
            return frame(kept) if kept else None

        if fac:
            frames["facilitator"] = ready(fac, FACILITATOR)
        if proj:
            frames["projector"] = ready(proj, PROJECTOR)
        if common:
            frames["participant"] = ready(common, PARTICIPANTS)
        last = events[-1].seq
        first = events[0].seq
        for client in clients:
            if client.dropped:
                continue
            pid = client.viewer.pid
            if client.last_seq >= last:
                continue
            if pid in own or client.last_seq >= first:
                items = common if client.viewer.role == "participant" else (
                    fac if client.viewer.role == "facilitator" else proj)
                swaps = own.get(pid, {}) if pid else {}
                mine = [(s, k, swaps.get(i, d)) for i, (s, k, d) in enumerate(items)
                        if s > client.last_seq]
                data = ready(mine, client.viewer)
            else:
                data = frames.get(client.viewer.role)
            client.last_seq = last
            if data is None:
                continue
            client.sent_seq = last
            try:
                client.push(data)
            except SlowClient:
                log.info("dropping a client that does not keep up")
                self._close_later(client, 4408, "too slow")

    def _throttle_participant_votes(
        self, feed: Feed, common: list[tuple[int, str, Any]]
    ) -> list[tuple[int, str, Any]]:
        """Others' votes reach phones at most once per PARTICIPANT_VOTES_SECONDS; a vote
        held back is flushed by the presence loop (`_flush_participant_votes`)."""
        marks = [s for s, _, d in common if d is VOTES_SUMMARY]
        if not marks:
            return common
        now = time.monotonic()
        # Hold back only where that saves phones a frame: when the batch has nothing else
        # for them (else it goes out anyway, and a summary held back would come too late).
        others = any(d is not None and d is not VOTES_SUMMARY for _, _, d in common)
        if others or now - feed.participant_votes_at >= PARTICIPANT_VOTES_SECONDS:
            feed.participant_votes_at = now
            feed.participant_votes_pending = 0
            return common
        feed.participant_votes_pending = marks[-1]
        return [(s, k, None if d is VOTES_SUMMARY else d) for s, k, d in common]

    def _flush_participant_votes(self, feed: Feed, force: bool = False) -> None:
        seq = feed.participant_votes_pending
        if not seq or (not force and time.monotonic() - feed.participant_votes_at
                       < PARTICIPANT_VOTES_SECONDS):
            return
        feed.participant_votes_pending = 0
        feed.participant_votes_at = time.monotonic()
        data = frame([(seq, "votes_changed", view_votes(feed.room, PARTICIPANTS, {}))])
        for client in list(feed.clients):
            if client.viewer.role != "participant" or client.sent_seq >= seq:
                continue
            client.sent_seq = seq
            try:
                client.push(data)
            except SlowClient:
                self._close_later(client, 4408, "too slow")

    # ------------------------------------------------------------ presence
    async def _presence_loop(self) -> None:
        while not self.closing:
            await asyncio.sleep(PRESENCE_SECONDS)
            try:
                await self._presence_round()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                self.store_ok = False
            except Exception:
                log.exception("presence round failed")

    async def _presence_round(self) -> None:
        now_ms = int(time.time() * 1000)
        now = time.monotonic()
        for wid, feed in list(self.feeds.items()):
            if feed.empty_since is not None and now - feed.empty_since > EMPTY_FEED_SECONDS:
                self.feeds.pop(wid, None)
                continue
            self._flush_participant_votes(feed)
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

"""Frames for the hub to send: a batch of events cut for one audience, the socket-side
send queue, and the summaries that are coalesced rather than sent one by one.

Pure of Redis and of timing: server/phone_batches.py decides when a batch goes out to
phones, server/feed.py sends it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from server.events import Event
from server.room import Room
from server.views import (
    PARTICIPANT_COUNT,
    PARTICIPANTS,
    VOTES_SUMMARY,
    Viewer,
    note_visible,
    view_votes,
)


class Item(NamedTuple):
    """One event as an audience sees it, waiting in a batch. A named tuple: the hot
    path still unpacks it positionally (`for seq, kind, data in items`)."""

    seq: int
    kind: str
    data: Any  # the audience's cut: a dict, None for "not for it", or a summary marker


class SlowClient(Exception):
    """A client whose send queue is full: it is dropped and resyncs on reconnect."""


class SendQueue:
    """The few methods of asyncio.Queue that a socket's sending uses, without its four
    deques (about 3 KB a socket, for a queue that is empty nearly all the time)."""

    __slots__ = ("_items", "_max", "_waiter")

    def __init__(self, maxsize: int) -> None:
        self._items: list[bytes | None] = []
        self._max = maxsize
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: bytes | None) -> None:
        if 0 < self._max <= len(self._items):
            raise asyncio.QueueFull
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> bytes | None:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    async def get(self) -> bytes | None:
        while not self._items:
            await self.arrival()
        return self._items.pop(0)

    def arrival(self) -> asyncio.Future[None]:
        """Done when an item is put (a future, not a coroutine: no frame of its own
        stays suspended for an idle socket)."""
        waiter = self._waiter
        if waiter is None or waiter.done():
            waiter = self._waiter = asyncio.get_running_loop().create_future()
        return waiter

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)


@dataclass(eq=False, slots=True)
class Client:
    """One socket, as the hub sees it."""

    viewer: Viewer
    send: Callable[[bytes], Awaitable[None]]
    close: Callable[[int, str], Awaitable[None]]
    queue_max: int
    last_seq: int = 0  # events up to here are done for this client (sent or filtered)
    sent_seq: int = 0  # no event sent to it has a higher seq (keeps late frames in order)
    queue: SendQueue = field(init=False)
    dropped: bool = False

    def __post_init__(self) -> None:
        self.queue = SendQueue(self.queue_max)

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
        queue = self.queue
        while True:
            while queue.empty():
                await queue.arrival()
            frame = queue.get_nowait()
            if frame is None:
                return
            await self.send(frame)


class Closer:
    """Closes sockets without waiting: a stuck one must not hold up the fan-out."""

    def __init__(self) -> None:
        self._closing: set[asyncio.Task[None]] = set()

    async def close(self, client: Client, code: int, reason: str) -> None:
        client.dropped = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(code, reason), 5.0)

    def later(self, client: Client, code: int, reason: str) -> None:
        client.dropped = True
        task = asyncio.create_task(self.close(client, code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


def frame(items: list[Item]) -> bytes:
    return orjson.dumps(
        {"type": "events", "events": [{"seq": s, "kind": k, "data": d} for s, k, d in items]}
    )


def is_summary(data: Any) -> bool:
    """A marker for figures that only the latest value of matters (vote totals, the
    participant count): coalesced to the last one of a batch, filled in when sent."""
    return data is VOTES_SUMMARY or data is PARTICIPANT_COUNT


# The summary marker of each event kind that phones get as a summary.
MARKERS = {"votes_changed": VOTES_SUMMARY, "participant_changed": PARTICIPANT_COUNT}


def fill(room: Room, marker: Any, viewer: Viewer, cache: dict[str, Any]) -> dict[str, Any]:
    if marker is VOTES_SUMMARY:
        return view_votes(room, viewer, cache)
    return {"count": len(room["participants"])}


def coalesce(items: Sequence[tuple[int, str, Any]], room: Room, viewer: Viewer,
             cache: dict[str, Any]) -> list[Item]:
    """Drop what is not for the viewer; keep only the last summary of each kind, filled
    in with the room's figures now (after the batch)."""
    last = {d: i for i, (_, _, d) in enumerate(items) if is_summary(d)}
    out = []
    for i, (s, k, d) in enumerate(items):
        if is_summary(d):
            if last[d] == i:
                out.append(Item(s, k, fill(room, d, viewer, cache)))
        elif d is not None:
            out.append(Item(s, k, d))
    return out


class Held:
    """Summaries held back (kind -> seq), filled in with the room's figures now: one
    frame shared by the phones sent nothing newer, a cut for one sent some of them."""

    def __init__(self, room: Room, held: dict[str, int]) -> None:
        cache: dict[str, Any] = {}
        self.items = sorted(Item(s, k, fill(room, MARKERS[k], PARTICIPANTS, cache))
                            for k, s in held.items())
        self.shared = frame(self.items)
        self.first = self.items[0].seq
        self.last = self.items[-1].seq

    def frame_for(self, sent_seq: int) -> bytes | None:
        """By sent_seq, not last_seq: a phone that was passed over while these were held
        back has been sent nothing newer, and gets them now."""
        if sent_seq >= self.last:
            return None
        if sent_seq < self.first:
            return self.shared
        return frame([x for x in self.items if x.seq > sent_seq])


def own_note_authors(room: Room, ev: Event) -> set[str]:
    """Authors of notes that a cluster event moves but the shared participants' view
    leaves out (hidden notes; private writing while collecting): each author still
    sees its own notes, so it gets the event cut for itself. Also, for a change that
    may bring notes back into a phone's view (a phase, a visibility setting), the phones
    that reacted to a note: the notes come with their own `my_reactions`."""
    if ev.kind in ("phase_changed", "settings_changed"):
        return reactors(room)
    if ev.kind == "activity_changed":
        # Another activity: a phone whose part of it differs from the shared cut (its own
        # notes, its dots, its reactions, its offers) gets it cut for itself.
        return ({n["author_id"] for n in room["notes"].values() if n.get("author_id")}
                | set(room["ballots"]) | reactors(room) | set(room.get("signups") or {}))
    if ev.kind not in ("cluster_changed", "cluster_deleted", "clusters_merged"):
        return set()
    notes = room["notes"]
    authors = {notes[nid]["author_id"] for nid in ev.data.get("assign", {})
               if nid in notes and notes[nid].get("author_id")
               and not note_visible(room, notes[nid], PARTICIPANTS)}
    if ev.kind == "clusters_merged":
        # Whose dots or offers moved with a merge: each gets its own `mine` with it.
        authors |= set(ev.data.get("ballots", {})) | set(ev.data.get("signups", {}))
    return authors


def reactors(room: Room) -> set[str]:
    """Every participant with a reaction on a note ("<pid>|<emoji>" keys, ops.lua)."""
    return {key.rsplit("|", 1)[0] for note in room["notes"].values()
            for key in (note.get("reacted") or {})}


@dataclass
class Batch:
    """Events cut for one audience, not sent yet; `own` holds, per participant, the
    items it sees cut for itself (index into `items`)."""

    items: list[Item] = field(default_factory=list)
    own: dict[str, dict[int, Any]] = field(default_factory=dict)
    due: float | None = None  # time.monotonic() when it goes out (set by its first item)
    read_at: float | None = None  # time.monotonic() its first item was read (for /metrics)


class Prepared:
    """A batch made ready to send: the shared frame serialised once, and for a client
    with events of its own, or one that joined part-way, a frame cut for it.

    For a client with events of its own only the shared items (and the last summary of
    each kind) are merged with its own: linear in the batch per client, not quadratic
    (a vote storm has a voter, and a summary, per event)."""

    def __init__(self, items: list[Item], own: dict[str, dict[int, Any]], room: Room,
                 viewer: Viewer, cache: dict[str, Any], *, hold: bool = False) -> None:
        """`hold`: the shared frame leaves the summaries out (held back, sent later by
        the hub); a client that gets a frame of its own anyway still gets them in it
        (once it has been sent a newer seq, a held summary could not follow)."""
        self.items = items
        self.own = own
        self.room = room
        self.cache = cache
        self.first = items[0].seq
        self.last = items[-1].seq
        shared = [Item(s, k, None if is_summary(d) else d) for s, k, d in items] if hold else items
        kept = coalesce(shared, room, viewer, cache)
        self.shared = frame(kept) if kept else None
        self.shared_last = kept[-1].seq if kept else 0  # the newest seq in it
        last_summary = {d: i for i, (_, _, d) in enumerate(items) if is_summary(d)}
        self.shared_at = sorted(
            [i for i, (_, _, d) in enumerate(items) if d is not None and not is_summary(d)]
            + list(last_summary.values()))

    def frame_for(self, client: Client) -> tuple[bytes | None, int]:
        """The frame for this client (None: nothing for it) and the newest seq in it."""
        pid = client.viewer.pid
        if pid is not None and pid in self.own:
            swaps = self.own[pid]
            items = self.items
            mine = [Item(items[i].seq, items[i].kind, swaps.get(i, items[i].data))
                    for i in sorted({*self.shared_at, *swaps}) if items[i].seq > client.last_seq]
        elif client.last_seq >= self.first:
            mine = [x for x in self.items if x.seq > client.last_seq]
        else:
            return self.shared, self.shared_last
        kept = coalesce(mine, self.room, client.viewer, self.cache)
        return (frame(kept), kept[-1].seq) if kept else (None, 0)

"""Frames for the hub to send: a batch of events cut for one audience, the socket-side
send queue, and the summaries that are coalesced rather than sent one by one.

Pure of Redis and of timing: the hub (server/hub.py) decides when a batch goes out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

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

# (seq, kind, data as the audience sees it: a dict, None for "not for it", or a marker)
Item = tuple[int, str, Any]


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


def frame(items: list[Item]) -> bytes:
    return orjson.dumps(
        {"type": "events", "events": [{"seq": s, "kind": k, "data": d} for s, k, d in items]}
    )


def is_summary(data: Any) -> bool:
    """A marker for figures that only the latest value of matters (vote totals, the
    participant count): coalesced to the last one of a batch, filled in when sent."""
    return data is VOTES_SUMMARY or data is PARTICIPANT_COUNT


def fill(room: Room, marker: Any, viewer: Viewer, cache: dict[str, Any]) -> dict[str, Any]:
    if marker is VOTES_SUMMARY:
        return view_votes(room, viewer, cache)
    return {"count": len(room["participants"])}


def coalesce(items: list[Item], room: Room, viewer: Viewer,
             cache: dict[str, Any]) -> list[Item]:
    """Drop what is not for the viewer; keep only the last summary of each kind, filled
    in with the room's figures now (after the batch)."""
    last = {d: i for i, (_, _, d) in enumerate(items) if is_summary(d)}
    out = []
    for i, (s, k, d) in enumerate(items):
        if is_summary(d):
            if last[d] == i:
                out.append((s, k, fill(room, d, viewer, cache)))
        elif d is not None:
            out.append((s, k, d))
    return out


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


@dataclass
class Batch:
    """Events cut for one audience, not sent yet; `own` holds, per participant, the
    items it sees cut for itself (index into `items`)."""

    items: list[Item] = field(default_factory=list)
    own: dict[str, dict[int, Any]] = field(default_factory=dict)
    due: float | None = None  # time.monotonic() when it goes out (set by its first item)


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
        self.first = items[0][0]
        self.last = items[-1][0]
        shared = [(s, k, None if is_summary(d) else d) for s, k, d in items] if hold else items
        kept = coalesce(shared, room, viewer, cache)
        self.shared = frame(kept) if kept else None
        self.shared_last = kept[-1][0] if kept else 0  # the newest seq in it
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
            mine = [(items[i][0], items[i][1], swaps.get(i, items[i][2]))
                    for i in sorted({*self.shared_at, *swaps}) if items[i][0] > client.last_seq]
        elif client.last_seq >= self.first:
            mine = [x for x in self.items if x[0] > client.last_seq]
        else:
            return self.shared, self.shared_last
        kept = coalesce(mine, self.room, client.viewer, self.cache)
        return (frame(kept), kept[-1][0]) if kept else (None, 0)

"""A workshop's feed in one process: the room mirror (server/room.py) kept current by its
events, its sockets, and how a batch of events reaches them.

A batch is serialised once per audience (facilitator, projector, participants), and
again only for a participant an event is about. The wall and the control screen get
each batch at once; phones when their window has passed (server/phone_batches.py).
No Redis here: the hub reads the events and hands them over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server import metrics
from server.events import Event
from server.fanout import Client, Held, Item, Prepared, SlowClient, own_note_authors
from server.phone_batches import Due, PhoneBatches
from server.room import Room, apply_event, subject_of
from server.views import FACILITATOR, PARTICIPANTS, PROJECTOR, Viewer, view_event

log = logging.getLogger("samenspel.hub")

# Phones are handed their frames this many at a time, with a turn of the event loop in
# between, so that acks and the wall's frames are not queued behind a whole room.
PUSH_CHUNK = 200
# Events that bring a note's (new) text.
NOTE_TEXTS = frozenset({"note_added", "note_edited", "note_approved"})

CloseLater = Callable[[Client, int, str], None]


@dataclass(eq=False)
class Feed:
    workshop_id: str
    room: Room
    phones: PhoneBatches
    close_later: CloseLater  # closes a socket without waiting (a stuck one must not block)
    clients: set[Client] = field(default_factory=set)
    empty_since: float | None = None
    online: int = 0
    # Takes the notes' texts as they come (the sorting help's worker: server/sort_worker.py).
    warm: Callable[[list[str]], None] | None = None
    _cache: tuple[int, dict[str, Any]] = (-1, {})

    def view_cache(self) -> dict[str, Any]:
        """A cache for the views of the room at its current seq (view_state's)."""
        if self._cache[0] != self.position:
            self._cache = (self.position, {})
        return self._cache[1]

    @property
    def position(self) -> int:
        return self.room["seq"]

    def broadcast(self, msg: bytes) -> None:
        """To every socket; one that does not keep up misses it (it is dropped anyway)."""
        for client in list(self.clients):
            try:
                client.push(msg)
            except SlowClient:
                pass

    def __post_init__(self) -> None:
        if self.warm is not None:
            self.warm([n["text"] for n in self.room["notes"].values()])

    def deliver(self, events: list[Event], read_at: float | None = None) -> None:
        """Apply new events (in order, after `position`) to the room; the wall and the
        control screen get them now, phones' cut goes into their batch (`send_phones`).
        `read_at`: when they were read from the store (time.monotonic(), for /metrics).
        Notes' new texts go to `warm` (the sorting help embeds them, off the hot path)."""
        room = self.room
        if self.warm is not None:
            self.warm([e.data["note"]["text"] for e in events if e.kind in NOTE_TEXTS])
        pids: set[str | None] = set()
        staff: list[Client] = []  # a few sockets: walls and control screens
        for c in self.clients:
            if c.viewer.role == "participant":
                pids.add(c.viewer.pid)
            else:
                staff.append(c)
        roles = {c.viewer.role for c in staff}
        fac: list[Item] = []
        proj: list[Item] = []
        phones = self.phones.batch
        for ev in events:
            apply_event(room, ev)
            if ev.kind == "participant_removed":
                self._close_removed(ev.data["participant_id"])
            cache: dict[str, Any] = {}
            if "facilitator" in roles:
                fac.append(Item(ev.seq, ev.kind, view_event(room, ev, FACILITATOR, cache)))
            if "projector" in roles:
                proj.append(Item(ev.seq, ev.kind, view_event(room, ev, PROJECTOR, cache)))
            if pids:
                phones.items.append(Item(ev.seq, ev.kind,
                                         view_event(room, ev, PARTICIPANTS, cache)))
                subjects = own_note_authors(room, ev) | {subject_of(ev) or ""}
                for subject in subjects & pids:
                    data = view_event(room, ev, Viewer("participant", subject), cache)
                    phones.own.setdefault(subject, {})[len(phones.items) - 1] = data
        self.phones.opened(len(pids))
        if pids and phones.read_at is None:
            phones.read_at = read_at
        final: dict[str, Any] = {}
        for items, viewer in ((fac, FACILITATOR), (proj, PROJECTOR)):
            if items:
                prepared = Prepared(items, {}, room, viewer, final)
                for client in staff:
                    if client.viewer.role == viewer.role:
                        self._push(prepared, client)
        if staff and read_at is not None:
            metrics.fanned_out("staff", time.monotonic() - read_at)

    def _close_removed(self, pid: str) -> None:
        """A removed participant's sockets, in every process: its token is gone (4401)."""
        for client in list(self.clients):
            if client.viewer.pid == pid and not client.dropped:
                self.close_later(client, 4401, "removed")

    async def send_phones(self) -> None:
        """Send the phones' batch once its window has passed."""
        due: Due | None = self.phones.take()
        if due is None:
            return
        if due.release:
            self._send_held(due.release)
        batch = due.batch
        prepared = Prepared(batch.items, batch.own, self.room, PARTICIPANTS, {},
                            hold=bool(due.hold))
        # A phone with events of its own in a batch held back is sent a newer seq than
        # the summaries held before, which could then no longer follow: it gets them now.
        early = Held(self.room, self.phones.held) if due.hold and self.phones.held else None
        phones = [c for c in self.clients if c.viewer.role == "participant"]
        for start in range(0, len(phones), PUSH_CHUNK):
            if start:
                await asyncio.sleep(0)
            for client in phones[start:start + PUSH_CHUNK]:
                if early is not None and client.viewer.pid in batch.own:
                    self._send_held_to(client, early)
                self._push(prepared, client)
        self.phones.sent(due)
        if phones and batch.read_at is not None:
            metrics.fanned_out("phones", time.monotonic() - batch.read_at)

    def send_held(self) -> None:
        """Send the summaries held back once their second is up."""
        held = self.phones.release()
        if held:
            self._send_held(held)

    def _send_held(self, held: dict[str, int]) -> None:
        frames = Held(self.room, held)
        for client in list(self.clients):
            if client.viewer.role == "participant":
                self._send_held_to(client, frames)

    def _send_held_to(self, client: Client, frames: Held) -> None:
        data = frames.frame_for(client.sent_seq)
        if data is not None:
            client.sent_seq = frames.last
            self._send(client, data)

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
        self._send(client, data)

    def _send(self, client: Client, data: bytes) -> None:
        try:
            client.push(data)
        except SlowClient:
            log.info("dropping a client that does not keep up")
            metrics.resynced("too_slow")
            self.close_later(client, 4408, "too slow")

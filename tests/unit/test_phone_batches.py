"""When phones get their events (server/phone_batches.py), and what reaches them (the
feed, server/feed.py), with time driven by the test: the clock is injected.

A small room sends with the wall each tick; a big room waits its window (75 µs a phone,
capped at 0.25 s, only when longer than a tick). Others' summaries (vote progress, the
participant count) reach phones at most once per second; one held back goes out with the
next batch or when its second is up; a phone passed over gets it by sent_seq; a joiner
does not miss a held count.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from server.fanout import Client, Item
from server.feed import Feed
from server.phone_batches import SUMMARY_SECONDS, WINDOW_MAX, PhoneBatches
from server.room import Room
from server.store import Event
from server.views import PARTICIPANT_COUNT, VOTES_SUMMARY, Viewer
from tests.unit.test_views import P1, P2, P3, make_room

TICK = 0.03
PER_SOCKET = 0.000075
T0 = 1000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def batches(clock: Clock) -> PhoneBatches:
    return PhoneBatches(TICK, PER_SOCKET, clock=clock)


def add(phones: PhoneBatches, *items: Item, room_size: int = 10) -> None:
    phones.batch.items.extend(items)
    phones.opened(room_size)


NOTE = Item(50, "note_added", {"note_id": "n9"})


def count(seq: int) -> Item:
    return Item(seq, "participant_changed", PARTICIPANT_COUNT)


def votes(seq: int) -> Item:
    return Item(seq, "votes_changed", VOTES_SUMMARY)


# ------------------------------------------------------------------ the window
def test_a_small_room_sends_with_the_wall_each_tick() -> None:
    clock = Clock()
    phones = batches(clock)
    assert phones.window(400) == 0.0  # 400 × 75 µs = a tick: no longer than one
    assert phones.take() is None  # nothing in the batch
    add(phones, NOTE, room_size=400)
    assert phones.wait() == 0.0
    due = phones.take()
    assert due is not None and due.batch.items == [NOTE]
    assert phones.take() is None and phones.wait() is None


def test_a_big_room_waits_its_window_and_the_window_is_capped() -> None:
    clock = Clock()
    phones = batches(clock)
    assert phones.window(1000) == pytest.approx(0.075)
    assert phones.window(2000) == pytest.approx(0.15)
    assert phones.window(100_000) == WINDOW_MAX
    add(phones, NOTE, room_size=2000)
    assert phones.wait() == pytest.approx(0.15)
    clock.now += 0.1
    assert phones.take() is None
    # More events in the same batch do not push its window out.
    add(phones, Item(51, "note_added", {"note_id": "n10"}), room_size=2000)
    assert phones.wait() == pytest.approx(0.05)
    clock.now += 0.05
    due = phones.take()
    assert due is not None and [i.seq for i in due.batch.items] == [50, 51]
    # The next batch gets a window of its own, from its first event.
    clock.now += 1.0
    add(phones, Item(52, "note_added", {"note_id": "n11"}), room_size=100_000)
    assert phones.wait() == pytest.approx(WINDOW_MAX)


# --------------------------------------------------------------- summaries
def test_summaries_reach_phones_at_most_once_per_second() -> None:
    clock = Clock()
    phones = batches(clock)
    add(phones, count(41))
    first = phones.take()
    assert first is not None and first.hold == {} and first.release == {}
    phones.sent(first)
    clock.now += 0.3
    add(phones, count(42), votes(43))
    second = phones.take()
    assert second is not None
    assert second.hold == {"participant_changed": 42, "votes_changed": 43}
    phones.sent(second)
    clock.now += 0.5
    assert phones.release() == {}  # 0.8 s since the last summary: not yet
    clock.now += 0.2
    assert phones.release() == {"participant_changed": 42, "votes_changed": 43}
    assert phones.release() == {}  # released once
    # Just released: a summary within the second after is held again.
    clock.now += 0.5
    add(phones, count(44))
    assert phones.take().hold == {"participant_changed": 44}  # type: ignore[union-attr]


def test_a_held_summary_goes_out_with_the_next_batch_unless_that_supersedes_it() -> None:
    clock = Clock()
    phones = batches(clock)
    add(phones, votes(41))
    phones.sent(phones.take())  # type: ignore[arg-type]
    clock.now += 0.2
    add(phones, count(42), votes(43))
    phones.sent(phones.take())  # type: ignore[arg-type]
    clock.now += 0.2
    # Something else for phones (a note) and a newer vote summary: the note's batch goes
    # out now, with the held count first; the held votes summary is superseded.
    add(phones, NOTE, votes(51))
    due = phones.take()
    assert due is not None
    assert due.release == {"participant_changed": 42}
    assert due.hold == {}
    phones.sent(due)
    assert phones.release() == {}
    clock.now += SUMMARY_SECONDS
    assert phones.release() == {}  # nothing left held


def test_what_a_batch_holds_is_not_released_before_it_went_out() -> None:
    """The feed hands out a big batch in chunks, with turns of the event loop between:
    the summaries it holds back must not be released (and sent) in between."""
    clock = Clock()
    phones = batches(clock)
    add(phones, count(41))
    phones.sent(phones.take())  # type: ignore[arg-type]
    clock.now += 0.5
    add(phones, count(42))
    due = phones.take()
    assert due is not None and due.hold == {"participant_changed": 42}
    clock.now += SUMMARY_SECONDS
    assert phones.release() == {}
    phones.sent(due)
    assert phones.release() == {"participant_changed": 42}


# ------------------------------------------------- what reaches the phones
async def _noop(*_: Any) -> None:
    return None


def phone(pid: str, seq: int) -> Client:
    c = Client(Viewer("participant", pid), _noop, _noop, queue_max=64)
    c.last_seq = seq
    return c


def frames(c: Client) -> list[list[tuple[int, Any]]]:
    out = []
    while not c.queue.empty():
        data = c.queue.get_nowait()
        assert data is not None
        out.append([(e["seq"], e["data"]) for e in orjson.loads(data)["events"]])
    return out


def joined(room: Room, seq: int, pid: str) -> Event:
    """A new participant (its profile applied to the room by the feed)."""
    profile = {"participant_id": pid, "name": None, "perspective": None, "joined_at": seq}
    return Event(seq, "participant_changed", pid,
                 {"participant": profile, "count": len(room["participants"]) + 1,
                  "joined": True})


def feed_of(clock: Clock, *clients: Client) -> Feed:
    room: Room = make_room(anonymous=True)  # type: ignore[assignment]
    feed = Feed("w1", room, batches(clock), lambda *_: None)
    for c in clients:
        c.sent_seq = c.last_seq
        feed.clients.add(c)
    return feed


def deliver(feed: Feed, *events: Event) -> None:
    feed.deliver(list(events))
    asyncio.run(feed.send_phones())


def counted(*clients: Client) -> tuple[Clock, Feed]:
    """A feed whose phones were sent a count (a join, seq 41) 0.2 s ago: the next
    count within the second is held back."""
    clock = Clock()
    feed = feed_of(clock, *clients)
    deliver(feed, joined(feed.room, 41, "p-a"))
    clock.now += 0.2
    return clock, feed


def test_a_phone_passed_over_gets_the_held_count_by_sent_seq() -> None:
    anna, bram = phone(P1, 40), phone(P2, 40)
    clock, feed = counted(anna, bram)
    assert frames(anna) == frames(bram) == [[(41, {"count": 4})]]
    deliver(feed, joined(feed.room, 42, "p-b"))
    # Held back: nothing sent, though the batch is done for them (last_seq).
    assert frames(anna) == frames(bram) == []
    assert anna.last_seq == 42 and anna.sent_seq == 41
    clock.now += 0.5
    feed.send_held()
    assert frames(anna) == []  # its second is not up
    clock.now += 0.3
    feed.send_held()
    assert frames(anna) == frames(bram) == [[(42, {"count": 5})]]
    assert anna.sent_seq == 42


def test_a_held_count_goes_out_with_the_next_batch_before_it() -> None:
    anna = phone(P1, 40)
    clock, feed = counted(anna)
    deliver(feed, joined(feed.room, 42, "p-b"))
    clock.now += 0.2
    phase = Event(43, "timer_changed", "",
                  {"timer": {"running": False, "ends_at": None, "remaining_ms": 60_000}})
    frames(anna)
    deliver(feed, phase)
    got = frames(anna)
    assert [[s for s, _ in f] for f in got] == [[42], [43]]
    assert got[0][0][1] == {"count": 5}


def test_a_joiner_does_not_miss_the_count_held_back_while_its_own_event_went_out() -> None:
    anna = phone(P1, 40)
    clock, feed = counted(anna)
    # Cor's welcome held seq 41; its own join (42) is cut for it, the others' count held.
    cor = phone(P3 + "-new", 41)
    feed.clients.add(cor)
    cor.sent_seq = 41
    deliver(feed, joined(feed.room, 42, cor.viewer.pid or ""))
    own = frames(cor)
    assert [[s for s, _ in f] for f in own] == [[42]]
    assert own[0][0][1]["participant"]["participant_id"] == cor.viewer.pid
    clock.now += 0.1
    deliver(feed, joined(feed.room, 43, "p-b"))  # held too, for everyone
    assert frames(cor) == [] and frames(anna) == [[(41, {"count": 4})]]
    clock.now += SUMMARY_SECONDS
    feed.send_held()
    assert frames(cor) == frames(anna) == [[(43, {"count": 6})]]


def test_a_phone_with_its_own_event_in_a_held_batch_still_gets_the_count_held_before() -> None:
    """Anna's own vote goes out while the others' summaries are held back; the count
    held back a batch earlier (an older seq) must still reach her: once she has been
    sent her vote's seq, the held count could not follow it."""
    anna, bram = phone(P1, 40), phone(P2, 40)
    clock, feed = counted(anna, bram)
    feed.room["workshop"]["phase"] = "vote"
    frames(anna), frames(bram)
    deliver(feed, joined(feed.room, 42, "p-b"))  # the count: held back
    clock.now += 0.2
    vote = Event(43, "votes_changed", P1,
                 {"participant_id": P1, "item_id": "n3", "delta": 1, "total": 1,
                  "mine": {"c1": 2, "n1": 1, "n3": 1}, "voters": 3})
    deliver(feed, vote)  # held back for Bram; Anna gets her own
    clock.now += SUMMARY_SECONDS
    feed.send_held()
    got = [x for f in frames(anna) for x in f]
    assert (42, {"count": 5}) in got
    assert [s for s, _ in got] == sorted(s for s, _ in got)
    assert [s for f in frames(bram) for s, _ in f] == [42, 43]

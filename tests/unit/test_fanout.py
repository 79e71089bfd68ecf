"""server/fanout.py: which frame each client gets from a batch.

The batch's shared frame for a client that is behind; a cut from where a client joined
part-way; a voter's own events merged with the shared items only (linear, not the whole
batch per voter); summaries coalesced to the last of each kind, filled in when sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from server.fanout import Client, Item, Prepared, SendQueue, SlowClient, coalesce, frame
from server.views import PARTICIPANT_COUNT, PARTICIPANTS, VOTES_SUMMARY, Viewer
from tests.unit.test_views import P1, P2, make_room


async def _noop(*_: Any) -> None:
    return None


def client(pid: str | None, last_seq: int = 0) -> Client:
    c = Client(Viewer("participant", pid), _noop, _noop, queue_max=8)
    c.last_seq = last_seq
    return c


def events(data: bytes | None) -> list[dict[str, Any]]:
    assert data is not None
    msg = orjson.loads(data)
    assert msg["type"] == "events"
    out: list[dict[str, Any]] = msg["events"]
    return out


def test_coalesce_keeps_the_last_summary_of_each_kind_filled_in_now() -> None:
    room = make_room("vote", show_live_votes=True)
    items = [Item(41, "votes_changed", VOTES_SUMMARY),
             Item(42, "participant_changed", PARTICIPANT_COUNT),
             Item(43, "note_added", {"note_id": "n9"}), Item(44, "votes_changed", VOTES_SUMMARY),
             Item(45, "note_edited", None), Item(46, "participant_changed", PARTICIPANT_COUNT)]
    out = coalesce(items, room, PARTICIPANTS, {})
    assert [s for s, _, _ in out] == [43, 44, 46]
    # The room's figures now, as phones see them (n2 is hidden: no item for them).
    assert out[1][2]["totals"] == {"c1": 3, "n1": 1}
    assert out[2][2] == {"count": len(room["participants"])}


def test_a_client_behind_gets_the_shared_frame_and_one_that_joined_part_way_a_cut() -> None:
    room = make_room()
    items = [Item(41, "note_added", {"note_id": "a"}), Item(42, "note_added", {"note_id": "b"}),
             Item(43, "participant_changed", PARTICIPANT_COUNT)]
    prepared = Prepared(items, {}, room, PARTICIPANTS, {})
    behind = client(P1, last_seq=40)
    assert prepared.frame_for(behind) == (prepared.shared, 43)
    assert [e["seq"] for e in events(prepared.shared)] == [41, 42, 43]
    joined = client(P2, last_seq=42)          # its welcome already held 41 and 42
    data, newest = prepared.frame_for(joined)
    assert [e["seq"] for e in events(data)] == [43] and newest == 43


def test_a_voter_gets_its_own_events_and_the_shared_ones_not_everyone_elses() -> None:
    room = make_room("vote", show_live_votes=True)
    voters = [f"p{i}" for i in range(500)]
    items: list[Item] = [Item(41, "phase_changed", {"phase": "vote"})]
    own: dict[str, dict[int, Any]] = {}
    for i, pid in enumerate(voters):
        items.append(Item(42 + i, "votes_changed", VOTES_SUMMARY))
        own[pid] = {len(items) - 1: {"item_id": "c1", "delta": 1, "mine": {"c1": 1}}}
    prepared = Prepared(items, own, room, PARTICIPANTS, {})
    # Others: the phase and one summary (the last), filled in.
    shared = events(prepared.shared)
    assert [e["seq"] for e in shared] == [41, 41 + len(voters)]
    assert "totals" in shared[1]["data"]
    # A voter in the middle: the phase, its own vote, and the last summary; nothing else.
    mid = voters[250]
    got = events(prepared.frame_for(client(mid, last_seq=40))[0])
    assert [e["seq"] for e in got] == [41, 42 + 250, 41 + len(voters)]
    assert got[1]["data"]["mine"] == {"c1": 1}
    # The last voter's own event stands in for the last summary.
    got = events(prepared.frame_for(client(voters[-1], last_seq=40))[0])
    assert [e["seq"] for e in got] == [41, 41 + len(voters)]
    assert got[1]["data"]["item_id"] == "c1"


def test_nothing_for_a_client_means_no_frame() -> None:
    room = make_room()
    prepared = Prepared([Item(41, "note_edited", None)], {}, room, PARTICIPANTS, {})
    assert prepared.shared is None
    assert prepared.frame_for(client(P1, last_seq=40)) == (None, 0)


def test_the_newest_seq_is_what_the_frame_holds_not_the_batch() -> None:
    """A joiner's own event went out while the others' count was held back (None): its
    newest seq is its own event's, so the held count (a later seq) still reaches it."""
    room = make_room()
    items = [Item(41, "participant_changed", {"participant": {"participant_id": P1}, "count": 3}),
             Item(42, "participant_changed", None), Item(43, "participant_changed", None)]
    own = {P1: {0: {"participant": {"participant_id": P1}, "count": 3}}}
    prepared = Prepared(items, own, room, PARTICIPANTS, {})
    data, newest = prepared.frame_for(client(P1, last_seq=40))
    assert [e["seq"] for e in events(data)] == [41] and newest == 41


def test_frames_keep_order_in_a_client_queue() -> None:
    c = client(P1)
    c.push(frame([Item(41, "note_added", {"note_id": "a"})]))
    c.push(frame([Item(42, "note_added", {"note_id": "b"})]))
    c.push(b"")
    sent: list[bytes] = []

    async def send(data: bytes) -> None:
        sent.append(data)
        if not data:
            c.queue.put_nowait(None)

    c.send = send
    asyncio.run(c.pump())
    assert [events(x)[0]["seq"] for x in sent[:2]] == [41, 42]


def test_the_send_queue_keeps_order_wakes_the_pump_and_drops_a_client_past_its_max() -> None:
    """SendQueue (asyncio.Queue's few methods, without its four deques a socket): a
    waiting get wakes on a put, items come out in order, and a client whose queue is
    full is dropped (SlowClient) and then ignored."""

    async def scenario() -> list[bytes | None]:
        q = SendQueue(3)
        waiting = asyncio.ensure_future(q.get())
        await asyncio.sleep(0)
        q.put_nowait(b"a")
        got = [await waiting]
        q.put_nowait(b"b")
        q.put_nowait(None)
        got += [q.get_nowait(), await q.get()]
        assert q.empty() and q.qsize() == 0
        return got

    assert asyncio.run(scenario()) == [b"a", b"b", None]
    c = client(P1)
    for i in range(8):
        c.push(b"%d" % i)
    assert c.queue.qsize() == 8 and not c.dropped
    try:
        c.push(b"one too many")
        raise AssertionError("a full queue must drop the client")
    except SlowClient:
        pass
    assert c.dropped and c.queue.qsize() == 8
    c.push(b"after")  # a dropped client takes nothing more, silently
    assert c.queue.qsize() == 8


def test_held_summaries_stay_out_of_the_shared_frame_but_go_with_a_clients_own() -> None:
    """p2's note (private writing: only p2 sees it) comes after a count held back for
    everyone else; p2 gets the count with its note, since after the note's seq the held
    count could no longer be sent to it."""
    room = make_room()
    items = [Item(41, "participant_changed", PARTICIPANT_COUNT), Item(42, "note_added", None)]
    own = {P2: {1: {"note_id": "n9"}}}
    prepared = Prepared(items, own, room, PARTICIPANTS, {}, hold=True)
    assert prepared.shared is None
    assert prepared.frame_for(client(P1, last_seq=40)) == (None, 0)
    data, newest = prepared.frame_for(client(P2, last_seq=40))
    assert [(e["seq"], e["data"]) for e in events(data)] == [
        (41, {"count": len(room["participants"])}), (42, {"note_id": "n9"})]
    assert newest == 42

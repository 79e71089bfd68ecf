"""Acceptance 3: two server processes on two ports serve one workshop through one Redis.

Screens on either process see the same events in the same order, and a burst of votes
by one participant, split over both processes, cannot overrun its budget.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.store import Store
from tests.support import Client, ServerProcess, close_all, create_workshop, running


@pytest.fixture(scope="module")
def pair(redis_url: str, logs_dir: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with running(ServerProcess(redis_url, logs_dir, name="A"),
                 ServerProcess(redis_url, logs_dir, name="B")) as (a, b):
        yield a, b


def comparable(events: list[dict[str, Any]], after: int) -> list[tuple[int, str, Any]]:
    """Events after a seq, without what legitimately differs between two sockets: vote
    summaries are coalesced per tick of each process, and a running timer's remaining_ms
    is computed when the event is sent (ends_at is the shared fact)."""
    out = []
    for e in events:
        if e["kind"] == "votes_changed" or e["seq"] <= after:
            continue
        data = e["data"]
        if e["kind"] == "timer_changed" and data["timer"]["running"]:
            data = {"timer": {**data["timer"], "remaining_ms": None}}
        out.append((e["seq"], e["kind"], data))
    return out


async def test_same_events_in_same_order(pair: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = pair
    w = await create_workshop(a.url, prompts=["Wat gaat goed?", "Wat kan beter?"])
    fac = Client(b, name="facilitator@B")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    watcher = Client(a, name="participant@A")     # only watches
    await watcher.join(w["code"])
    wall = Client(b, name="projector@B")
    await wall.staff("projector", w["id"], w["view_key"])
    wall_a = Client(a, name="projector@A")
    await wall_a.staff("projector", w["id"], w["view_key"])

    writers = [Client(a if i % 2 else b, name=f"writer{i}") for i in range(6)]
    await asyncio.gather(*(c.join(w["code"]) for c in writers))
    # From here on every observer has every event: compare what comes after this mark.
    mark = (await fac.ok("timer", {"action": "reset"}))["seq"]
    await asyncio.gather(*(c.wait_seq(mark) for c in (watcher, wall, wall_a)))

    async def write(i: int, c: Client) -> list[str]:
        ids = []
        for j in range(5):
            ack = await c.ok("add_note", {"prompt_id": f"q{1 + j % 2}", "text": f"{i}/{j}"})
            ids.append(ack["result"]["note_id"])
        return ids

    # Notes from both processes at once, while the facilitator works on B.
    written, _, _ = await asyncio.gather(
        asyncio.gather(*(write(i, c) for i, c in enumerate(writers))),
        fac.ok("timer", {"action": "start", "seconds": 60}),
        fac.ok("set_lock", {"locked": False}),
    )
    note_ids = [nid for ids in written for nid in ids]
    await fac.ok("moderate_note", {"note_id": note_ids[0], "hidden": True})
    await fac.ok("set_phase", {"phase": "cluster"})
    made = await fac.ok("cluster", {"note_ids": note_ids[1:6], "cluster_id": None,
                                    "title": "Eerste"})
    await fac.ok("rename_cluster", {"cluster_id": made["result"]["cluster_id"],
                                    "title": "Eerst"})
    await fac.ok("set_phase", {"phase": "vote"})
    voters = writers[:3]
    vote_acks = await asyncio.gather(*(
        c.ok("vote", {"item_id": made["result"]["cluster_id"], "delta": 1}) for c in voters))
    vote_seqs = {x["seq"] for x in vote_acks}
    last = await fac.ok("set_phase", {"phase": "results"})

    await asyncio.gather(*(c.wait_seq(last["seq"]) for c in (watcher, wall, wall_a, fac)))
    assert comparable(watcher.events, mark) == comparable(wall.events, mark)
    assert watcher.events == [] or [e["seq"] for e in watcher.events] == sorted(
        {e["seq"] for e in watcher.events})
    # Two projectors on two processes: identical event data, vote summaries aside.
    assert comparable(wall.events, mark) == comparable(wall_a.events, mark)
    kinds = [e["kind"] for e in wall.events if e["seq"] > mark]
    assert kinds.count("note_added") == 30
    assert "note_moderated" in kinds and "cluster_changed" in kinds
    assert [e["data"]["phase"] for e in wall.events if e["kind"] == "phase_changed"] == \
        ["cluster", "vote", "results"]
    # Both end in the same state as the facilitator's totals say.
    for c in (watcher, wall, wall_a):
        assert c.state["votes"]["totals"] == {made["result"]["cluster_id"]: 3}  # type: ignore[index]
        assert c.violations == []
    # The facilitator on B got every event (votes may be coalesced into the last one).
    fac_seqs = [e["seq"] for e in fac.events]
    every = set(range(fac_seqs[0], last["seq"] + 1))
    assert set(fac_seqs) - vote_seqs == every - vote_seqs
    assert max(vote_seqs) in fac_seqs
    await close_all(fac, watcher, wall, wall_a, *writers)


async def test_concurrent_votes_over_two_processes_respect_the_budget(
    pair: tuple[ServerProcess, ServerProcess], store: Store,
) -> None:
    a, b = pair
    budget = 5
    w = await create_workshop(a.url, settings={"votes_per_participant": budget,
                                               "max_votes_per_item": budget})
    fac = Client(a, name="facilitator@A")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    author = Client(b, name="author")
    await author.join(w["code"])
    items = [(await author.ok("add_note", {"prompt_id": "q1", "text": f"idee {i}"}))[
        "result"]["note_id"] for i in range(3)]
    await fac.ok("set_phase", {"phase": "vote"})

    voter_a = Client(a, name="voter@A")
    await voter_a.join(w["code"])
    voter_b = Client(b, name="voter@B")          # the same participant, on process B
    await voter_b.join(w["code"], token=voter_a.token)
    assert voter_b.pid == voter_a.pid
    wall = Client(b, name="projector@B")
    await wall.staff("projector", w["id"], w["view_key"])

    rng = random.Random(7)
    # 25 at once: within the participant's burst of ops (30), so every answer is the
    # budget's (tests/security/test_op_limits.py floods past it).
    plan = [(voter_a if i % 2 else voter_b, rng.choice(items)) for i in range(25)]

    async def fire(c: Client, item: str) -> dict[str, Any]:
        return await c.op("vote", {"item_id": item, "delta": 1})

    answers = await asyncio.gather(*(fire(c, item) for c, item in plan))
    acks = [x for x in answers if x["type"] == "ack"]
    nacks = [x for x in answers if x["type"] == "nack"]
    assert len(acks) == budget, answers
    assert len(nacks) == 25 - budget
    assert {x["error"]["code"] for x in nacks} == {"no_votes_left"}
    assert len({x["seq"] for x in acks}) == budget           # each its own seq

    room = await store.load(w["id"])
    assert room is not None
    ballot = room["ballots"][voter_a.pid]
    assert sum(ballot.values()) == budget
    assert room["totals"] == ballot
    expected = {item: sum(1 for (c, it), x in zip(plan, answers, strict=True)
                          if it == item and x["type"] == "ack") for item in items}
    assert {k: v for k, v in expected.items() if v} == ballot
    # The acked answer that came last in seq order holds the final ballot.
    final = max(acks, key=lambda x: x["seq"])
    assert final["result"]["mine"] == ballot

    # Both sockets of the voter end with the same `mine`; the facilitator's totals match.
    last_seq = final["seq"]
    await asyncio.gather(voter_a.wait_seq(last_seq), voter_b.wait_seq(last_seq),
                         fac.wait_seq(last_seq))
    assert voter_a.state["votes"]["mine"] == ballot  # type: ignore[index]
    assert voter_b.state["votes"]["mine"] == ballot  # type: ignore[index]
    assert fac.state["votes"]["totals"] == ballot  # type: ignore[index]
    assert fac.state["votes"]["voters"] == 1  # type: ignore[index]
    await fac.ok("set_phase", {"phase": "results"})
    await wall.wait_for(lambda: wall.state["workshop"]["phase"] == "results")  # type: ignore[index]
    assert wall.state["votes"]["totals"] == ballot  # type: ignore[index]
    await close_all(fac, author, voter_a, voter_b, wall)


async def test_resume_on_the_other_process(pair: tuple[ServerProcess, ServerProcess]) -> None:
    """No sticky sessions: a phone that drops off A and comes back on B misses nothing."""
    a, b = pair
    w = await create_workshop(a.url)
    writer = Client(b, name="writer@B")
    await writer.join(w["code"])
    phone = Client(a, name="phone@A")
    await phone.join(w["code"])
    first = await writer.ok("add_note", {"prompt_id": "q1", "text": "voor"})
    await phone.wait_seq(first["seq"])
    seen = len(phone.events)
    await phone.drop()
    acks = [await writer.ok("add_note", {"prompt_id": "q1", "text": f"gemist {i}"})
            for i in range(10)]

    moved = Client(b, name="phone@B")             # the same phone, now on B
    moved.state, moved.seq = phone.state, phone.seq
    moved.events = list(phone.events)
    moved.hello_fields = phone.hello_fields
    welcome = await moved.join(w["code"], token=phone.token, since=phone.seq)
    assert welcome["you"]["participant_id"] == phone.pid
    # Writes keep coming while it catches up.
    more = [await writer.ok("add_note", {"prompt_id": "q1", "text": f"live {i}"})
            for i in range(5)]
    await moved.wait_seq(more[-1]["seq"])
    got = [e["data"]["note_id"] for e in moved.events[seen:] if e["kind"] == "note_added"]
    assert got == [x["result"]["note_id"] for x in acks + more]
    assert moved.violations == []
    assert moved.state is not None and len(moved.state["notes"]) == 16
    await close_all(writer, moved)


async def test_done_and_reactions_over_two_processes(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    """Issue 13: "klaar" and reactions from phones on both processes add up on the walls
    and control screens of both, and a phone's taps on A and B count once."""
    a, b = pair
    w = await create_workshop(a.url)
    fac = Client(b, name="facilitator@B")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    walls = [Client(a, name="wall@A"), Client(b, name="wall@B")]
    for wall in walls:
        await wall.staff("projector", w["id"], w["view_key"])
    phones = [Client(a if i % 2 else b, name=f"phone{i}") for i in range(6)]
    for p in phones:
        await p.join(w["code"])
    nid = (await phones[0].ok("add_note", {"prompt_id": "q1", "text": "Samen"}))["result"][
        "note_id"]
    twin = Client(a, name="phone1-twin@A")          # phone1 (on A) on B as well
    await twin.join(w["code"], token=phones[1].token)
    thumbs = "\U0001F44D"
    await asyncio.gather(
        *(p.ok("set_done", {"done": True}) for p in phones[:5]),
        *(p.ok("react", {"note_id": nid, "emoji": thumbs, "on": True}) for p in phones),
        twin.ok("react", {"note_id": nid, "emoji": thumbs, "on": True}),
        twin.ok("set_done", {"done": True}),
    )

    def settled(c: Client) -> bool:
        s = c.state
        assert s is not None
        note = next((n for n in s["notes"] if n["id"] == nid), None)
        return s["participants"]["done"] == 5 and note is not None and note["reactions"] == {
            thumbs: 6}

    for screen in (fac, *walls, *phones, twin):
        await screen.wait_for(lambda screen=screen: settled(screen), what="5 done, 6 thumbs")
    assert twin.state is not None and twin.state["me"]["done"] is True
    await fac.ok("set_phase", {"phase": "cluster"})
    for screen in (fac, *walls, *phones, twin):
        await screen.wait_for(
            lambda screen=screen: screen.state["participants"]["done"] == 0,  # type: ignore[index]
            what="reset on both")
    assert all(c.violations == [] for c in (fac, *walls, *phones, twin))
    await close_all(fac, *walls, *phones, twin)

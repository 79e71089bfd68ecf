"""Fault: `kill -9` of one of two server processes while 200 phones post notes or vote.

Promise: an acknowledged note or vote is never lost, and an op that is sent again after
a reconnect (to the other process, with the same op_id) is applied once. The wall on the
surviving process sees every note once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server import keys
from server.store import Store
from tests.faults.helpers import OrderOnlyClient, Outbox, acked, cancel, gather_limited, until
from tests.support import Client, ServerProcess, close_all, create_workshop, running

PARTICIPANTS = 200
NOTES_EACH = 3
BUDGET = 5
PER_ITEM = 3


@pytest.fixture
def pair(redis_url: str, logs_dir: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with running(ServerProcess(redis_url, logs_dir, name="kill-A"),
                 ServerProcess(redis_url, logs_dir, name="kill-B")) as (a, b):
        yield a, b


async def _pace(rng: random.Random) -> None:
    # A modest rate: one op per 0.2-1.2 s per phone (the server allows 20 frames/s).
    await asyncio.sleep(rng.uniform(0.2, 1.2))


async def _kill_when(victim: ServerProcess, store: Store, wid: str, progress: Any,
                     threshold: int, on_victim: list[Outbox], record: dict[str, Any]) -> None:
    """SIGKILL the victim once `threshold` ops are acked, at a moment when some of its
    phones have an op on the wire (sent, not answered)."""
    await until(lambda: progress() >= threshold, step=0.005)
    with contextlib.suppress(AssertionError):   # at most 2 s for ops to be on the wire
        await until(lambda: sum(len(o.client._pending) for o in on_victim) >= 3, 2, 0)
    record["pending_at_kill"] = sum(len(o.client._pending) for o in on_victim)
    victim.kill()           # synchronous: no answer is read between the check and the kill
    record["acked_before_kill"] = progress()
    record["seq_at_kill"] = int(await store.redis.hget(keys.workshop_key(wid, "meta"), "seq"))


@pytest.mark.parametrize("during", ["notes", "votes"])
async def test_kill_one_of_two_processes(
    pair: tuple[ServerProcess, ServerProcess], store: Store, during: str
) -> None:
    a, b = pair                                   # A is killed, B survives
    rng = random.Random(f"kill-{during}")
    started = time.monotonic()
    w = await create_workshop(b.url, prompts=["Wat gaat goed?", "Wat kan beter?"],
                              settings={"votes_per_participant": BUDGET,
                                        "max_votes_per_item": PER_ITEM})
    fac = Client(b, name="facilitator@B")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    wall = Client(b, name="wall@B")
    await wall.staff("projector", w["id"], w["view_key"])
    phones = [OrderOnlyClient(a if i % 2 == 0 else b, name=f"phone{i}")
              for i in range(PARTICIPANTS)]
    await gather_limited([p.join(w["code"]) for p in phones])
    outboxes = [Outbox(p, [a, b]) for p in phones]
    on_a = [o for o in outboxes if o.server is a]
    record: dict[str, Any] = {}

    # ---- notes: 3 per phone, at a modest pace
    async def write(o: Outbox, i: int) -> None:
        for j in range(NOTES_EACH):
            await _pace(rng)
            await o.perform("add_note", {"prompt_id": f"q{1 + j % 2}", "text": f"{i}/{j}"})

    def notes_acked() -> int:
        return len(acked(outboxes, "add_note"))

    killer = None
    if during == "notes":
        killer = asyncio.create_task(_kill_when(
            a, store, w["id"], notes_acked, PARTICIPANTS * NOTES_EACH * 35 // 100, on_a, record))
    await asyncio.gather(*(write(o, i) for i, o in enumerate(outboxes)))
    note_ids = [s.final["result"]["note_id"] for _, s in acked(outboxes, "add_note")]
    assert len(note_ids) == PARTICIPANTS * NOTES_EACH   # every add_note ended acked

    # ---- votes: 5 dots per phone (at most 3 on one note), then one over the budget
    await fac.ok("set_phase", {"phase": "vote"})

    async def vote(o: Outbox) -> None:
        first, second, third = rng.sample(note_ids, 3)
        for item in [first, first, second, second, third, third]:   # the 6th: over budget
            await _pace(rng)
            await o.perform("vote", {"item_id": item, "delta": 1})

    def votes_acked() -> int:
        return len(acked(outboxes, "vote"))

    if during == "votes":
        killer = asyncio.create_task(_kill_when(
            a, store, w["id"], votes_acked, PARTICIPANTS * BUDGET * 35 // 100, on_a, record))
    await asyncio.gather(*(vote(o) for o in outboxes))
    assert killer is not None and killer.done(), "the kill never happened mid-stream"
    await cancel(killer)
    assert not a.running and b.running
    done = await fac.ok("set_phase", {"phase": "results"})
    await wall.wait_seq(done["seq"], within=20)

    # ---- what was stored
    room = await store.load(w["id"])
    assert room is not None
    adds = acked(outboxes, "add_note")
    by_op = {(o.client.pid, s.op_id): s.final["result"]["note_id"] for o, s in adds}
    # Every acknowledged note is there, with its author and text.
    for o, s in adds:
        note = room["notes"].get(s.final["result"]["note_id"])
        assert note is not None, f"acked note lost: {s.op_id} {s.answers}"
        assert note["author_id"] == o.client.pid and note["text"] == s.args["text"]
    # Nothing doubled: one note per distinct acked add_note op, unique ids.
    assert len(set(by_op.values())) == len(by_op) == len(adds)
    assert len(room["notes"]) == len(adds)
    per_author = Counter(n["author_id"] for n in room["notes"].values())
    assert set(per_author.values()) == {NOTES_EACH}

    # Every acknowledged vote is there, once; nobody over budget; totals = ballots.
    for o in outboxes:
        votes = [s for s in o.sent if s.op == "vote"]
        acks = [s for s in votes if s.acked]
        assert len(acks) == BUDGET, [s.final for s in votes]
        assert votes[-1].final["error"]["code"] == "no_votes_left"
        expected = Counter(s.args["item_id"] for s in acks)
        assert room["ballots"].get(o.client.pid) == dict(expected), o.client.name
    for ballot in room["ballots"].values():
        assert sum(ballot.values()) <= BUDGET and max(ballot.values()) <= PER_ITEM
    summed: Counter[str] = Counter()
    for ballot in room["ballots"].values():
        summed.update(ballot)
    assert room["totals"] == dict(summed)
    assert sum(room["totals"].values()) == PARTICIPANTS * BUDGET

    # A resent op got its first answer: the seq in the ack is the seq of its event.
    stored_seq = {e["data"]["note_id"]: e["seq"] for e in wall.events
                  if e["kind"] == "note_added"}
    for _, s in adds:
        assert stored_seq[s.final["result"]["note_id"]] == s.final["seq"]

    # The wall on the surviving process saw every note_added once, in order.
    wall_notes = [e["data"]["note_id"] for e in wall.events if e["kind"] == "note_added"]
    assert len(wall_notes) == len(set(wall_notes)) == len(room["notes"])
    assert set(wall_notes) == set(room["notes"])
    assert wall.violations == []
    assert wall.state is not None and wall.state["votes"]["totals"] == room["totals"]
    assert all(p.violations == [] for p in phones), [p.violations for p in phones if
                                                     p.violations][:3]

    # The fault really hit the stream: phones on A moved to B and resent ops.
    resent = [s for o in outboxes for s in o.sent if s.lost]
    in_flight = [s for s in resent if s.unanswered]
    assert resent, "the kill did not hit the stream"
    assert all(o.moves >= 1 for o in on_a)
    applied_before = [s for s in resent if s.final.get("seq") is not None
                      and s.final["seq"] <= record["seq_at_kill"]]
    print(f"\n[kill during {during}] {PARTICIPANTS} phones, {len(room['notes'])} notes, "
          f"{sum(room['totals'].values())} dots; killed A after "
          f"{record['acked_before_kill']} acked {during} with {record['pending_at_kill']} ops "
          f"on the wire to A; {len(on_a)} phones moved to B; "
          f"{len(resent)} ops sent again with the same op_id ({len(in_flight)} had gone out "
          f"unanswered), {len(applied_before)} of them applied before the kill and answered "
          f"with their first answer; "
          f"{time.monotonic() - started:.1f}s")
    await close_all(fac, wall, *phones)

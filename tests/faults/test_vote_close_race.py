"""Fault: the facilitator ends the vote while many dots are on the wire.

Promise: no vote is accepted after the phase changed. Every acked vote has a seq below
the phase_changed seq, every vote after it is refused with `wrong_phase`, the stream
holds no vote after the phase change, and the totals are the acked votes.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

from server.store import Store
from tests.faults.helpers import until
from tests.support import Client, ServerProcess, close_all, create_workshop

VOTERS = 30
BUDGET = 5
PER_ITEM = 3
WINDOW = 3          # ops a phone has on the wire at once


def walk(rng: random.Random, items: list[str], steps: int) -> list[tuple[str, int]]:
    """A sequence of dots that never breaks a limit when applied in order."""
    ballot: Counter[str] = Counter()
    out = []
    for _ in range(steps):
        adds = [i for i in items if ballot[i] < PER_ITEM] if sum(ballot.values()) < BUDGET \
            else []
        removes = [i for i in items if ballot[i] > 0]
        if adds and (not removes or rng.random() < 0.6):
            item, delta = rng.choice(adds), 1
        else:
            item, delta = rng.choice(removes), -1
        ballot[item] += delta
        out.append((item, delta))
    return out


async def test_no_vote_after_the_vote_closed(server: ServerProcess, store: Store) -> None:
    rng = random.Random(5)
    w = await create_workshop(server.url, settings={"votes_per_participant": BUDGET,
                                                    "max_votes_per_item": PER_ITEM})
    fac = Client(server, name="facilitator")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    wall = Client(server, name="wall")
    await wall.staff("projector", w["id"], w["view_key"])
    author = Client(server, name="author")
    await author.join(w["code"])
    items = [(await author.ok("add_note", {"prompt_id": "q1", "text": f"idee {i}"}))[
        "result"]["note_id"] for i in range(8)]
    await fac.ok("set_phase", {"phase": "vote"})
    voters = [Client(server, name=f"voter{i}") for i in range(VOTERS)]
    await asyncio.gather(*(v.join(w["code"]) for v in voters))

    # Each phone walks through dots in order, WINDOW at a time on the wire, ~15 a second
    # (under the 20/s limit), and keeps going until the vote is closed to it.
    log: dict[str, list[tuple[str, int, dict[str, Any]]]] = {v.name: [] for v in voters}

    async def phone(v: Client) -> None:
        plan = walk(rng, items, 400)
        gate = asyncio.Semaphore(WINDOW)
        refused = 0

        async def one(item: str, delta: int) -> None:
            nonlocal refused
            try:
                answer = await v.op("vote", {"item_id": item, "delta": delta}, within=20)
                log[v.name].append((item, delta, answer))
                refused += answer["type"] == "nack"
            finally:
                gate.release()

        tasks = []
        for item, delta in plan:
            if refused >= 3:            # told three times: the vote is over for it
                break
            await gate.acquire()
            tasks.append(asyncio.create_task(one(item, delta)))
            await asyncio.sleep(rng.uniform(0.04, 0.09))
        await asyncio.gather(*tasks)

    async def close_vote() -> dict[str, Any]:
        await until(lambda: sum(len(x) for x in log.values()) >= VOTERS * 15, step=0.005)
        answer: dict[str, Any] = await fac.ok("set_phase", {"phase": "results"})
        return answer

    phase, *_ = await asyncio.gather(close_vote(), *(phone(v) for v in voters))
    phase_seq = phase["seq"]

    # ---- every acked vote came before the phase change; every later one was refused
    acked = [(v, item, delta, a) for v, entries in log.items() for item, delta, a in entries
             if a["type"] == "ack"]
    nacked = [a for entries in log.values() for *_, a in entries if a["type"] == "nack"]
    assert acked and nacked
    assert max(a["seq"] for *_, a in acked) < phase_seq
    assert {a["error"]["code"] for a in nacked} == {"wrong_phase"}
    # The answers of one phone come in the order it sent them: a prefix of acks, then
    # only refusals (nothing accepted after the first refusal).
    for v in voters:
        kinds = [a["type"] for *_, a in sorted(log[v.name], key=lambda x: x[2]["op_id"]
                                               .rsplit("-", 1)[1].zfill(6))]
        assert kinds == sorted(kinds), (v.name, kinds)
    # The stream: no votes_changed after phase_changed.
    after = await store.events_after(w["id"], phase_seq - 1)
    assert after[0].kind == "phase_changed" and after[0].seq == phase_seq
    assert [e.kind for e in after if e.kind == "votes_changed"] == []

    # ---- the totals are the acked votes
    room = await store.load(w["id"])
    assert room is not None and room["workshop"]["phase"] == "results"
    for v in voters:
        net: Counter[str] = Counter()
        for name, item, delta, _ in acked:
            if name == v.name:
                net[item] += delta
        assert room["ballots"].get(v.pid, {}) == {k: n for k, n in net.items() if n}, v.name
    summed: Counter[str] = Counter()
    for ballot in room["ballots"].values():
        assert sum(ballot.values()) <= BUDGET and max(ballot.values()) <= PER_ITEM
        summed.update(ballot)
    assert room["totals"] == {k: n for k, n in summed.items() if n}
    net_all: Counter[str] = Counter()
    for _, item, delta, _ in acked:
        net_all[item] += delta
    assert room["totals"] == {k: n for k, n in net_all.items() if n}
    await wall.wait_seq(phase_seq)
    assert wall.state is not None and wall.state["votes"]["totals"] == room["totals"]
    last_ack = max(a["seq"] for *_, a in acked)
    print(f"\n[vote close race] {VOTERS} phones, {len(acked)} dots acked (all seq < "
          f"{phase_seq}, the last at {last_ack}), {len(nacked)} refused with wrong_phase "
          f"after the close; {sum(room['totals'].values())} dots in the totals")
    await close_all(fac, wall, author, *voters)

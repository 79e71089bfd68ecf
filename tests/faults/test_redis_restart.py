"""Fault: Redis (a private Valkey with appendfsync always) goes away mid-vote and comes
back on the same port and data folder, while the server process keeps running.

Promises: nothing acknowledged is lost; while the store is down an op is answered with
`try_again`, never with an ack; afterwards the same server process serves again, and an
op sent again with the same op_id is applied once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server import keys
from server.embedded import EmbeddedValkey, free_port
from server.store import Store
from tests.faults.helpers import Outbox, cancel, until
from tests.support import Client, Refused, ServerProcess, close_all, create_workshop, http
from tests.support.cluster import one_redis_only

# Its own Valkey, one server by nature: nothing to learn from it again on a cluster.
pytestmark = one_redis_only

VOTERS = 12
BUDGET = 6
PER_ITEM = 3


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[EmbeddedValkey]:
    v = EmbeddedValkey(tmp_path / "valkey", port=free_port())
    v.start()
    try:
        yield v
    finally:
        v.stop()


def _down(valkey: EmbeddedValkey, how: str) -> None:
    if how == "stop":
        valkey.stop()                     # SIGTERM: Valkey shuts down cleanly
        return
    assert valkey.process is not None     # SIGKILL: only what is fsynced survives
    valkey.process.kill()
    valkey.process.wait()
    valkey.process = None


async def _next_events(c: Client) -> float:
    """When the next `events` frame reaches this client (time.monotonic())."""
    start = len(c.frames)
    await c.wait_for(lambda: any(f["type"] == "events" for f in c.frames[start:]), 30)
    return time.monotonic()


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_redis_goes_away_mid_vote(valkey: EmbeddedValkey, logs_dir: Path,
                                        how: str) -> None:
    server = ServerProcess(valkey.url, logs_dir, name=f"on-valkey-{how}")
    server.start()
    store = Store.from_url(valkey.url, retention_ms=3600_000, stream_maxlen=10_000)
    try:
        await _scenario(server, valkey, store, how)
    finally:
        await store.close()
        server.stop()
        server.reap()


async def _scenario(server: ServerProcess, valkey: EmbeddedValkey, store: Store,
                    how: str) -> None:
    rng = random.Random(f"redis-{how}")
    pid_before = server.process.pid if server.process else None
    w = await create_workshop(server.url, settings={"votes_per_participant": BUDGET,
                                                    "max_votes_per_item": PER_ITEM})
    fac = Client(server, name="facilitator")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    wall = Client(server, name="wall")
    await wall.staff("projector", w["id"], w["view_key"])
    author = Client(server, name="author")
    await author.join(w["code"])
    items = [(await author.ok("add_note", {"prompt_id": "q1", "text": f"idee {i}"}))[
        "result"]["note_id"] for i in range(6)]
    await fac.ok("set_phase", {"phase": "vote"})
    voters = [Client(server, name=f"voter{i}") for i in range(VOTERS)]
    await asyncio.gather(*(v.join(w["code"]) for v in voters))
    outboxes = [Outbox(v, [server], pause=0.3) for v in voters]

    # Each voter places its whole budget (3 items x 2 dots), one dot every 0.1-0.3 s.
    plans = {o.client.name: [it for it in rng.sample(items, 3) for _ in range(2)]
             for o in outboxes}

    async def vote(o: Outbox) -> None:
        for item in plans[o.client.name]:
            await o.perform("vote", {"item_id": item, "delta": 1})
            await asyncio.sleep(rng.uniform(0.1, 0.3))

    def answers() -> list[tuple[float, float, dict[str, Any]]]:
        return [x for o in outboxes for s in o.sent for x in s.answers]

    voting = [asyncio.create_task(vote(o)) for o in outboxes]
    await until(lambda: sum(1 for *_, a in answers() if a["type"] == "ack")
                >= VOTERS * BUDGET // 3)

    # ---- Redis goes away
    await asyncio.to_thread(_down, valkey, how)
    down_at = time.monotonic()
    health_down = await http("GET", f"{server.url}/healthz")
    newcomer = Client(server, name="newcomer")
    with pytest.raises(Refused) as refused:     # a new phone cannot be let in just now
        await newcomer.join(w["code"])
    # Stay down for at least 1.5 s, and until several voters were told to try again.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if time.monotonic() - down_at < 1.5:
            await asyncio.sleep(0.05)
            continue
        told = {o.client.name for o in outboxes for s in o.sent for x in s.answers
                if x[2]["type"] == "nack" and x[1] > down_at}
        if len(told) >= VOTERS // 2:
            break
        await asyncio.sleep(0.05)
    up_at = time.monotonic()
    await asyncio.to_thread(valkey.start)
    back_at = time.monotonic()

    wall_back = asyncio.create_task(_next_events(wall))
    await asyncio.wait_for(asyncio.gather(*voting), 60)
    first_ack_after = min(at for _, at, a in answers() if a["type"] == "ack" and at > back_at)
    wall_live_after = await wall_back - back_at
    health_up = await http("GET", f"{server.url}/healthz")

    # ---- while down: only try_again, never an ack, for ops sent after Redis was gone
    during = [a for sent_at, at, a in answers() if sent_at > down_at and at < up_at]
    assert during, "no op was answered while Redis was down"
    assert {a["type"] for a in during} == {"nack"}, during
    assert {a["error"]["code"] for a in during} == {"try_again"}
    assert all(a["error"]["message"] for a in during)
    assert health_down.status == 503 and health_up.status == 200
    assert refused.value.code == 1013 and refused.value.error is not None
    assert refused.value.error["code"] == "try_again"

    # ---- nothing acknowledged lost, every resent vote applied once
    room = await store.load(w["id"])
    assert room is not None
    assert sorted(room["notes"]) == sorted(items)
    for o in outboxes:
        votes = [s for s in o.sent if s.op == "vote"]
        assert all(s.acked for s in votes), [s.final for s in votes if not s.acked]
        assert room["ballots"][o.client.pid] == dict(Counter(plans[o.client.name]))
    summed: Counter[str] = Counter()
    for ballot in room["ballots"].values():
        summed.update(ballot)
    assert room["totals"] == dict(summed)
    assert sum(room["totals"].values()) == VOTERS * BUDGET
    # One votes_changed event per dot in the stream: no vote was applied twice.
    events = await store.events_after(w["id"], 0, 100_000)
    assert sum(1 for e in events if e.kind == "votes_changed") == VOTERS * BUDGET
    assert [e.seq for e in events] == list(range(1, len(events) + 1))

    # ---- the same process serves again: a new phone joins and votes; the screens follow
    assert server.running and server.process is not None
    assert server.process.pid == pid_before and server.starts == 1
    late = Client(server, name="late")
    await late.join(w["code"])
    dot = await late.ok("vote", {"item_id": items[0], "delta": 1})
    done = await fac.ok("set_phase", {"phase": "results"})
    await asyncio.gather(wall.wait_seq(done["seq"], within=20),
                         fac.wait_seq(done["seq"], within=20))
    stored = int(await store.redis.hget(keys.workshop_key(w["id"], "meta"), "seq"))
    assert stored == done["seq"] > dot["seq"]
    summed[items[0]] += 1
    assert wall.state is not None and wall.state["votes"]["totals"] == dict(summed)
    assert fac.state is not None and fac.state["votes"]["totals"] == dict(summed)
    assert wall.violations == [] and fac.violations == []
    assert all(v.violations == [] for v in voters)
    retried = [s for o in outboxes for s in o.sent if s.retried]
    nacks = sum(1 for a in during if a["type"] == "nack")
    print(f"\n[redis {how}] down {up_at - down_at:.1f}s; {nacks} try_again nacks and 0 acks "
          f"while down; {len(retried)} votes sent again with the same op_id, each applied "
          f"once; first ack {first_ack_after - back_at:.2f}s and the wall live again "
          f"{wall_live_after:.2f}s after Redis was back; "
          f"{VOTERS * BUDGET} dots stored; same server pid {pid_before}")
    await close_all(fac, wall, author, late, newcomer, *voters)
    await cancel(*voting)

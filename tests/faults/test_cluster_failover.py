"""Issue 14, failover: a master of a Redis Cluster dies (kill -9) while phones post notes
in one workshop and vote in another, both served by that master. Its replica takes over;
the server reconnects by itself and ops succeed again within 15 s, the phones meanwhile
only hear `try_again` ("even geduld") and /healthz says 503. The dead node is started
again once replaced (as systemd would), and rejoins as a replica.

Measured and printed (docs/reliability.md has the figures): the outage (kill to the first
op acked again) and the ops lost (acked, yet not in the store afterwards), without and
with REDIS_WAIT_REPLICAS=1. With it, nothing acked may be lost.

    PYTHONPATH=$PWD pytest -s tests/faults/test_cluster_failover.py
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from server import keys
from server.store import Store
from tests.faults.helpers import Outbox, cancel, until
from tests.support import Client, ServerProcess, close_all, create_workshop, http
from tests.support.cluster import LocalCluster, Node

POSTERS = 8
VOTERS = 8
NOTES_EACH = 12
BUDGET = 6
RECOVERY_SECONDS = 15.0


async def _same_master(cluster: LocalCluster, url: str) -> tuple[dict[str, Any], ...]:
    """Two workshops whose slots the same master serves (made until two are)."""
    made: dict[int, dict[str, Any]] = {}
    for _ in range(20):
        w = await create_workshop(url, "Failover", ["Wat nemen we mee?"],
                                  settings={"votes_per_participant": BUDGET,
                                            "max_votes_per_item": 3})
        port = cluster.master_of_key(keys.workshop_key(w["id"], "meta")).port
        if port in made:
            return made[port], w
        made[port] = w
    raise AssertionError("no two workshops on one master")


def _statuses(client: Client) -> list[str]:
    return [str(f["store"]) for f in client.frames if f["type"] == "status"]


async def _restart_once_replaced(cluster: LocalCluster, victim: Node, workshop_id: str) -> float:
    """When the replica has taken the dead master's slots, start the dead node again (a
    supervisor would): it comes back as the new master's replica, so that with
    REDIS_WAIT_REPLICAS=1 there is again a replica to confirm writes. Returns when the
    replica took over (time.monotonic())."""
    key = keys.workshop_key(workshop_id, "meta")
    while True:
        try:
            if cluster.master_of_key(key) is not victim:
                break
        except RuntimeError:
            pass
        await asyncio.sleep(0.1)
    replaced = time.monotonic()
    await asyncio.to_thread(cluster.restart, victim)
    return replaced


@pytest.mark.parametrize("wait_replicas", [0, 1])
async def test_a_master_dies_mid_workshop(tmp_path: Path, logs_dir: Path,
                                          wait_replicas: int) -> None:
    with LocalCluster(tmp_path / "cluster") as cluster:
        server = ServerProcess(cluster.url, logs_dir, name=f"failover-wait{wait_replicas}",
                               env={"REDIS_WAIT_REPLICAS": str(wait_replicas)})
        server.start()
        try:
            await _scenario(cluster, server, wait_replicas)
        finally:
            server.stop()
            server.reap()


async def _scenario(cluster: LocalCluster, server: ServerProcess, wait_replicas: int) -> None:
    posting, voting_ws = await _same_master(cluster, server.url)
    victim = cluster.master_of_key(keys.workshop_key(posting["id"], "meta"))
    fac_post = Client(server, name="fac-post")
    await fac_post.staff("facilitator", posting["id"], posting["facilitator_key"])
    fac_vote = Client(server, name="fac-vote")
    await fac_vote.staff("facilitator", voting_ws["id"], voting_ws["facilitator_key"])
    author = Client(server, name="author")
    await author.join(voting_ws["code"])
    items = [(await author.ok("add_note", {"prompt_id": "q1", "text": f"idee {i}"}))[
        "result"]["note_id"] for i in range(6)]
    await fac_vote.ok("set_phase", {"phase": "vote"})

    posters = [Client(server, name=f"poster{i}") for i in range(POSTERS)]
    voters = [Client(server, name=f"voter{i}") for i in range(VOTERS)]
    await asyncio.gather(*(p.join(posting["code"]) for p in posters),
                         *(v.join(voting_ws["code"]) for v in voters))
    post_boxes = [Outbox(p, [server], pause=0.2) for p in posters]
    vote_boxes = [Outbox(v, [server], pause=0.2) for v in voters]
    plans = {o.client.name: [items[(i + k) % 6] for k in range(3) for _ in range(2)]
             for i, o in enumerate(vote_boxes)}

    async def post(o: Outbox) -> None:
        for n in range(NOTES_EACH):
            await o.perform("add_note", {"prompt_id": "q1", "text": f"{o.client.name} {n}"})
            await asyncio.sleep(0.25)

    async def vote(o: Outbox) -> None:
        for item in plans[o.client.name]:
            await o.perform("vote", {"item_id": item, "delta": 1})
            await asyncio.sleep(0.5)

    boxes = post_boxes + vote_boxes

    def answers() -> list[tuple[float, float, dict[str, Any]]]:
        return [x for o in boxes for s in o.sent for x in s.answers]

    tasks = [asyncio.create_task(post(o)) for o in post_boxes]
    tasks += [asyncio.create_task(vote(o)) for o in vote_boxes]
    await until(lambda: sum(1 for *_, a in answers() if a["type"] == "ack") >= 24,
                within=30, what="ops acked before the kill")

    # ---- kill -9 the master of both workshops' slots
    await asyncio.to_thread(cluster.kill, victim)
    killed_at = time.monotonic()
    back = asyncio.create_task(_restart_once_replaced(cluster, victim, posting["id"]))
    health = []
    while time.monotonic() - killed_at < 30:
        health.append((await http("GET", f"{server.url}/healthz")).status)
        if 503 in health and health[-1] == 200:
            break
        await asyncio.sleep(0.2)
    await asyncio.wait_for(asyncio.gather(*tasks), 90)
    replaced_after = await back - killed_at
    first_ack = min(at for _, at, a in answers() if a["type"] == "ack" and at > killed_at)
    outage = first_ack - killed_at

    # ---- phones heard only try_again; every op was acked in the end
    nacks = [a for *_, a in answers() if a["type"] == "nack"]
    assert {a["error"]["code"] for a in nacks} <= {"try_again"}, nacks
    assert all(s.acked for o in boxes for s in o.sent), "an op was never acked"
    assert 503 in health and health[-1] == 200, health
    assert outage < RECOVERY_SECONDS, f"ops acked again only after {outage:.1f}s"

    # ---- what the store holds now (read through the promoted replica)
    store = Store.from_url(cluster.url, retention_ms=3600_000, stream_maxlen=10_000)
    try:
        posted = await store.load(posting["id"])
        voted = await store.load(voting_ws["id"])
    finally:
        await store.close()
    assert posted is not None and voted is not None
    acked_notes = [str(s.final["result"]["note_id"]) for o in post_boxes for s in o.sent
                   if s.acked]
    lost_notes = [n for n in acked_notes if n not in posted["notes"]]
    lost_votes = 0
    for o in vote_boxes:
        acked_dots = Counter(s.args["item_id"] for s in o.sent if s.acked)
        stored = voted["ballots"].get(o.client.pid, {})
        lost_votes += sum(max(0, n - stored.get(item, 0)) for item, n in acked_dots.items())
    lost = len(lost_notes) + lost_votes
    # Nothing applied twice: the resent ops (same op_id) were not doubled.
    assert len(posted["notes"]) <= POSTERS * NOTES_EACH
    assert sum(voted["totals"].values()) <= VOTERS * BUDGET
    if wait_replicas:
        assert lost == 0, f"{lost} acked ops lost with REDIS_WAIT_REPLICAS={wait_replicas}"

    # ---- the workshops go on: the screens follow the next phase
    done = await fac_vote.ok("set_phase", {"phase": "results"})
    await fac_vote.wait_seq(done["seq"], within=20)
    # ---- the screens were told "cannot save now" calmly: once or twice, not flickering
    # (ops on the other masters succeed between the failures; without the store health's
    # hold, a screen got "down"/"ok" dozens of times during one failover), and "ok" last.
    await fac_post.wait_for(lambda: _statuses(fac_post)[-1:] == ["ok"], 10)
    downs = _statuses(fac_post).count("down")
    assert 1 <= downs <= 2, _statuses(fac_post)
    assert all(c.violations == [] for c in (fac_post, fac_vote, *posters, *voters))
    retried = sum(1 for o in boxes for s in o.sent if s.retried)
    total = len(acked_notes) + sum(len(plans[o.client.name]) for o in vote_boxes)
    print(f"\n[cluster failover, REDIS_WAIT_REPLICAS={wait_replicas}] outage "
          f"{outage:.1f}s (kill -9 of the master to the first op acked again; its replica "
          f"took over after {replaced_after:.1f}s); "
          f"{len(nacks)} try_again answers, {retried} ops sent again; "
          f"acked ops lost: {lost} of {total}; /healthz 503 then 200; "
          f"status frames to a screen: {_statuses(fac_post)}")
    await close_all(fac_post, fac_vote, author, *posters, *voters)
    await cancel(*tasks)

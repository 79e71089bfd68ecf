"""Issue 14, bad input and faults on a Redis Cluster: REDIS_URL names a node that is down
at start-up, REDIS_URL names a replica, a cluster with a slot that no master serves
(`cluster_state:fail`). Each time: the server starts and stays up (no crash loop, no
hang), says so in its log, /healthz answers 503 while the store cannot serve, and all
works once the cluster does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Client, ServerProcess, close_all, create_workshop, http
from tests.support.cluster import LocalCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path_factory.mktemp("faults-cluster")) as c:
        yield c


async def _health_until(proc: ServerProcess, status: int, within: float) -> list[int]:
    seen: list[int] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            seen.append((await http("GET", f"{proc.url}/healthz")).status)
        except OSError:
            seen.append(0)
        if seen[-1] == status:
            return seen
        await asyncio.sleep(0.2)
    raise AssertionError(f"/healthz never said {status}: {seen[-10:]}")


async def _a_workshop_works(proc: ServerProcess) -> None:
    w = await create_workshop(proc.url, "Cluster", ["Wat nemen we mee?"])
    fac = Client(proc, name="fac")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    phone = Client(proc, name="phone")
    await phone.join(w["code"])
    ack = await phone.ok("add_note", {"prompt_id": "q1", "text": "een bankje"})
    await fac.wait_seq(ack["seq"], within=10)
    assert fac.violations == [] and phone.violations == []
    await close_all(fac, phone)


async def test_redis_url_names_a_node_that_is_down_at_start(cluster: LocalCluster,
                                                           logs_dir: Path) -> None:
    node = cluster.nodes[-1]          # a replica
    cluster.kill(node)
    proc = ServerProcess(cluster.node_url(node), logs_dir, name="node-down")
    try:
        proc.start(wait=False)
        first = await _health_until(proc, 503, 20)
        await asyncio.sleep(2)
        assert proc.running and proc.starts == 1, "the server gave up or restarted"
        assert (await http("GET", f"{proc.url}/healthz")).status == 503
        page = await http("POST", f"{proc.url}/api/workshops",
                          {"title": "Te vroeg", "prompts": ["Wat?"]})
        assert page.status == 503, page
        log = proc.log_text()
        assert "REDIS_URL does not answer" in log, log
        assert "Traceback" not in log, log

        await asyncio.to_thread(cluster.restart, node)
        await _health_until(proc, 200, 30)
        await _a_workshop_works(proc)
        assert proc.running and proc.starts == 1
        assert "REDIS_URL answers again: a cluster node" in proc.log_text()
        print(f"\n[cluster] REDIS_URL node down at start: /healthz {first[-1]} until it "
              "was back, then 200; one start, no traceback")
    finally:
        proc.stop()
        proc.reap()
        await asyncio.to_thread(cluster.wait_ok)


async def test_redis_url_names_a_replica(cluster: LocalCluster, logs_dir: Path) -> None:
    replica = cluster.replica_nodes()[0]
    with ServerProcess(cluster.node_url(replica), logs_dir, name="on-replica") as proc:
        await _a_workshop_works(proc)
        assert "Traceback" not in proc.log_text()


async def test_a_slot_without_a_master(tmp_path: Path, logs_dir: Path) -> None:
    broken = LocalCluster(tmp_path / "broken", masters=3, replicas=0,
                          uncovered=range(0, 100))
    broken.start()
    proc = ServerProcess(broken.url, logs_dir, name="slot-uncovered")
    try:
        proc.start(wait=False)
        await _health_until(proc, 503, 20)
        page = await http("POST", f"{proc.url}/api/workshops",
                          {"title": "Kapot", "prompts": ["Wat?"]})
        assert page.status == 503, page
        await asyncio.sleep(2)
        assert proc.running and proc.starts == 1
        assert (await http("GET", f"{proc.url}/healthz")).status == 503
        assert "Traceback" not in proc.log_text(), proc.log_text()

        # An operator gives the slots to a master: the cluster serves again.
        broken.nodes[0].call("CLUSTER", "ADDSLOTSRANGE", 0, 99)
        await asyncio.to_thread(broken.wait_ok)
        await _health_until(proc, 200, 30)
        await _a_workshop_works(proc)
    finally:
        proc.stop()
        proc.reap()
        broken.stop()

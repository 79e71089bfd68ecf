"""REDIS_WAIT_REPLICAS (issue 14): an op's ack waits until that many replicas have its
writes. Asked for more replicas than the store has, the op is done on the master but
answered `try_again`, and its resend with the same op_id gets the stored ack; asked for
as many as it has, the ack comes. On one Redis (no replicas) and on the local cluster
(one replica per master) alike.
"""

from __future__ import annotations

from pathlib import Path

from server.store import Store
from tests.support import Client, ServerProcess, close_all, create_workshop
from tests.support.cluster import LocalCluster


async def test_an_ack_waits_for_the_replicas(server: ServerProcess, store: Store,
                                             redis_url: str, logs_dir: Path,
                                             local_cluster: LocalCluster | None) -> None:
    replicas = 1 if local_cluster is not None else 0   # per master, on this target
    w = await create_workshop(server.url)
    too_many = ServerProcess(redis_url, logs_dir, name="wait-too-many",
                             env={"REDIS_WAIT_REPLICAS": str(replicas + 1)})
    enough = ServerProcess(redis_url, logs_dir, name="wait-enough",
                           env={"REDIS_WAIT_REPLICAS": str(replicas)})
    with too_many, enough:
        fac = Client(too_many, name="fac-too-many")
        await fac.staff("facilitator", w["id"], w["facilitator_key"])
        op_id = fac.new_op_id()
        answer = await fac.op("set_phase", {"phase": "cluster"}, op_id=op_id)
        assert answer["type"] == "nack" and answer["error"]["code"] == "try_again", answer
        room = await store.load(w["id"])
        assert room is not None and room["workshop"]["phase"] == "cluster"  # on the master

        # The resend, where the replicas suffice: the stored answer, applied once.
        other = Client(enough, name="fac-enough")
        await other.staff("facilitator", w["id"], w["facilitator_key"])
        again = await other.op("set_phase", {"phase": "cluster"}, op_id=op_id)
        assert again["type"] == "ack", again
        assert await store.stored_seq(w["id"]) == again["seq"]
        ack = await other.op("set_phase", {"phase": "vote"})
        assert ack["type"] == "ack" and ack["seq"] == again["seq"] + 1, ack
        await close_all(fac, other)

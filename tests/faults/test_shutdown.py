"""Fault: SIGTERM (a deploy, a supervisor) while phones have notes on the wire.

Promises: connected screens are told to reconnect (close 1012); every op either got its
ack before, or is applied exactly once when it is sent again with the same op_id after
the server is back; the process exits cleanly within a few seconds. Run on an external
Redis (REDIS_URL) and on the embedded Valkey that `make run` uses.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.faults.helpers import Outbox, acked, until
from tests.support import Client, ServerProcess, close_all, comparable, create_workshop, differences

PHONES = 20
NOTES_EACH = 20  # within a participant's burst of notes (tests/security/test_op_limits.py)
WINDOW = 2


@pytest.mark.parametrize("redis", ["external", "embedded"])
async def test_sigterm_with_ops_in_flight(redis_url: str, logs_dir: Path, tmp_path: Path,
                                          redis: str) -> None:
    proc = ServerProcess(redis_url if redis == "external" else None, logs_dir,
                         name=f"sigterm-{redis}", data_dir=tmp_path / "data")
    proc.start()
    try:
        await _scenario(proc, redis)
    finally:
        proc.stop()
        proc.reap()


async def _scenario(proc: ServerProcess, redis: str) -> None:
    rng = random.Random(f"sigterm-{redis}")
    w = await create_workshop(proc.url)
    fac = Client(proc, name="facilitator")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    wall = Client(proc, name="wall")
    await wall.staff("projector", w["id"], w["view_key"])
    phones = [Client(proc, name=f"phone{i}") for i in range(PHONES)]
    await asyncio.gather(*(p.join(w["code"]) for p in phones))
    outboxes = [Outbox(p, [proc], pause=0.1) for p in phones]

    async def write(i: int, o: Outbox) -> None:
        gate = asyncio.Semaphore(WINDOW)

        async def one(j: int) -> None:
            try:
                await o.perform("add_note", {"prompt_id": "q1", "text": f"{i}/{j}"})
            finally:
                gate.release()

        tasks = []
        for j in range(NOTES_EACH):
            await gate.acquire()
            tasks.append(asyncio.create_task(one(j)))
            await asyncio.sleep(rng.uniform(0.05, 0.15))
        await asyncio.gather(*tasks)

    writing = asyncio.gather(*(write(i, o) for i, o in enumerate(outboxes)))
    await until(lambda: len(acked(outboxes, "add_note")) >= PHONES * NOTES_EACH // 3)

    # ---- SIGTERM, with notes on the wire
    on_wire = sum(len(p._pending) for p in phones)
    t0 = time.monotonic()
    code = await asyncio.to_thread(proc.stop)
    stop_seconds = time.monotonic() - t0
    screens = await asyncio.gather(fac.wait_closed(5), wall.wait_closed(5))
    log = proc.log_text()
    proc.start()                        # the same port, the same Redis (or data folder)
    await writing

    # ---- told to reconnect, and exited cleanly, soon
    assert screens == [1012, 1012], screens
    assert all(o.closes and set(o.closes) == {1012} for o in outboxes), \
        [o.closes for o in outboxes]
    # 143 = 128 + SIGTERM (the embedded mode exits through its handler); -15: uvicorn
    # re-raises SIGTERM after its graceful shutdown (a shell reports that as 143 too).
    assert code in (0, 143, -15), code
    assert stop_seconds < 6, stop_seconds
    assert "Application shutdown complete" in log, log[-2000:]
    assert "Traceback" not in log, log[-4000:]

    # ---- every op acked before, or applied exactly once when resent after the restart
    fresh = Client(proc, name="facilitator-after")
    await fresh.staff("facilitator", w["id"], w["facilitator_key"])
    assert fresh.state is not None
    adds = acked(outboxes, "add_note")
    # A welcome holds the events up to its seq; one acked a moment ago may follow it.
    await fresh.wait_seq(max(s.final["seq"] for _, s in adds))
    stored = {n["id"]: n for n in fresh.state["notes"]}
    assert len(adds) == PHONES * NOTES_EACH                  # every op ended acked
    for o, s in adds:
        note = stored.get(s.final["result"]["note_id"])
        assert note is not None, f"acked note lost: {s.op_id}"
        assert note["text"] == s.args["text"]
        assert note["author"]["participant_id"] == o.client.pid
    assert len({s.final["result"]["note_id"] for _, s in adds}) == len(adds) == len(stored)
    texts = Counter(n["text"] for n in stored.values())
    assert set(texts.values()) == {1}                        # no note twice
    resent = [s for _, s in adds if s.lost]
    unanswered = [s for s in resent if s.unanswered]
    assert resent, "no op was caught by the shutdown"

    # ---- the screens come back where they were
    await asyncio.gather(fac.resume(), wall.resume())
    last = await fac.ok("timer", {"action": "reset"})
    await asyncio.gather(*(c.wait_seq(last["seq"]) for c in (fac, wall)))
    again = await wall.twin()
    for c, ref in ((fac, fresh), (wall, again)):
        await ref.wait_seq(last["seq"])
        assert c.state is not None and ref.state is not None
        diff = differences(comparable(c.state), comparable(ref.state))
        assert diff == [], f"{c.name}: " + "\n".join(diff)
        assert c.violations == []
    assert all(p.violations == [] for p in phones)
    print(f"\n[SIGTERM, {redis} Redis] exit code {code} after {stop_seconds:.2f}s; "
          f"{on_wire} notes on the wire; {len(resent)} notes sent again after the restart "
          f"with the same op_id ({len(unanswered)} had gone out unanswered), each stored "
          f"once; {len(stored)} notes stored = {PHONES} x {NOTES_EACH}")
    await close_all(fac, wall, fresh, again, *phones)

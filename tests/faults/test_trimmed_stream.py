"""Fault: a screen comes back with a `since` older than what the event stream still holds
(STREAM_MAXLEN trimmed it while the screen was away).

Promise: it gets a fresh snapshot (welcome `state` not null), and ends with the same
state as a fresh welcome of its role; a `since` that the stream still covers is replayed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.store import Store
from tests.faults.helpers import Outbox
from tests.support import Client, ServerProcess, close_all, comparable, create_workshop, differences

MAXLEN = 50


@pytest.fixture
def short_stream(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(redis_url, logs_dir, name="maxlen",
                         env={"STREAM_MAXLEN": str(MAXLEN)})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


async def test_resume_after_the_stream_was_trimmed(short_stream: ServerProcess,
                                                   store: Store) -> None:
    srv = short_stream
    w = await create_workshop(srv.url, prompts=["Wat gaat goed?", "Wat kan beter?"],
                              settings={"perspectives": ["Bewoner", "Ambtenaar"],
                                        "anonymous": False})
    fac = Client(srv, name="facilitator")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    wall = Client(srv, name="wall")
    await wall.staff("projector", w["id"], w["view_key"])
    phone = Client(srv, name="phone")
    await phone.join(w["code"])
    mine = await phone.ok("add_note", {"prompt_id": "q1", "text": "van de telefoon"})
    await phone.ok("set_profile", {"name": "Sam", "perspective": "Bewoner"})
    early = await fac.ok("timer", {"action": "reset"})
    screens = [fac, wall, phone]
    await asyncio.gather(*(c.wait_seq(early["seq"]) for c in screens))
    away = {c.name: c.seq for c in screens}
    await asyncio.gather(*(c.drop() for c in screens))

    # ---- a few hundred events while they are away (XADD MAXLEN ~ trims whole nodes)
    # Writers keep an outbox: with a stream this short, a process whose fan-out falls
    # more than MAXLEN events behind drops its sockets (4408) to resync them, and they
    # come back and resend what was unanswered.
    writers = [Client(srv, name=f"writer{i}") for i in range(6)]
    await asyncio.gather(*(c.join(w["code"]) for c in writers))
    outboxes = [Outbox(c, [srv]) for c in writers]

    async def write(i: int, o: Outbox) -> list[str]:
        ids = []
        for j in range(55):
            sent = await o.perform("add_note", {"prompt_id": f"q{1 + j % 2}",
                                                "text": f"{i}.{j}"})
            assert sent.acked, sent.answers
            ids.append(sent.final["result"]["note_id"])
        return ids

    written = [n for ids in await asyncio.gather(*(write(i, o) for i, o in
                                                   enumerate(outboxes))) for n in ids]
    assert len(set(written)) == len(written) == 6 * 55
    # The fan-out may still be catching up when the burst ends, so a writer's socket can
    # get its 4408 now: everything after the burst also goes through an outbox.
    boss = Client(srv, name="facilitator-2")
    await boss.staff("facilitator", w["id"], w["facilitator_key"])
    chief = Outbox(boss, [srv])

    async def done(o: Outbox, op: str, args: dict[str, Any]) -> dict[str, Any]:
        sent = await o.perform(op, args)
        assert sent.acked, sent.answers
        return sent.final

    await done(outboxes[0], "edit_note", {"note_id": written[0], "text": "aangepast"})
    await done(outboxes[1], "delete_note", {"note_id": written[55]})
    await phone_op(srv, w["code"], phone.token, "edit_note",
                   {"note_id": mine["result"]["note_id"], "text": "ook aangepast"})
    await done(chief, "moderate_note", {"note_id": written[1], "hidden": True})
    await done(chief, "set_phase", {"phase": "cluster"})
    made = await done(chief, "cluster", {"note_ids": written[2:8], "cluster_id": None,
                                         "title": "Groen"})
    await done(chief, "set_phase", {"phase": "vote"})
    cid = made["result"]["cluster_id"]
    for o in outboxes[:4]:
        await done(o, "vote", {"item_id": cid, "delta": 1})
    await done(outboxes[0], "vote", {"item_id": written[9], "delta": 1})
    await done(chief, "timer", {"action": "start", "seconds": 300})
    last = await done(chief, "update_settings", {"show_live_votes": True})
    resyncs = sum(o.reconnects for o in [*outboxes, chief])

    oldest = await store.oldest_seq(w["id"])
    assert oldest is not None and oldest > max(away.values()) + 1, (oldest, away)

    # ---- each screen comes back with its old `since`: a snapshot, equal to a fresh one
    for c in screens:
        welcome = await c.resume()
        assert welcome["state"] is not None, f"{c.name}: replay from a trimmed stream"
        # (the snapshot of this process's room: up to a tick behind the store)
        assert max(away.values()) + MAXLEN < welcome["seq"] <= last["seq"]
    recent = Client(srv, name="recent")      # control: a `since` the stream still has
    await recent.staff("projector", w["id"], w["view_key"])
    await recent.drop()
    more = await done(outboxes[2], "vote", {"item_id": cid, "delta": 1})
    since = recent.seq
    replayed = await recent.resume()
    assert replayed["state"] is None and replayed["seq"] == since
    await recent.wait_seq(more["seq"])
    final = await done(chief, "set_phase", {"phase": "results"})
    everyone = [*screens, recent]
    await asyncio.gather(*(c.wait_seq(final["seq"]) for c in everyone))

    for c in everyone:
        fresh = await c.twin()
        assert c.state is not None and fresh.state is not None
        diff = differences(comparable(c.state), comparable(fresh.state))
        assert diff == [], f"{c.name}: " + "\n".join(diff)
        assert c.violations == []
        await fresh.close()
    assert phone.state is not None
    texts = {n["text"] for n in phone.state["notes"]}
    assert "ook aangepast" in texts and "aangepast" in texts
    assert len(phone.state["notes"]) == 1 + len(written) - 2     # one deleted, one hidden
    assert phone.state["me"]["name"] == "Sam"
    assert phone.state["votes"]["totals"] == {cid: 5, written[9]: 1}
    print(f"\n[trimmed stream] MAXLEN ~{MAXLEN}: {last['seq']} events, oldest kept "
          f"{oldest}, screens away since {sorted(set(away.values()))}: snapshot for "
          f"{len(screens)} screens, replay for a recent `since`, states equal to fresh welcomes; "
          f"writers resynced (4408) {resyncs} times and resent their unanswered notes")
    await close_all(*everyone, boss, *writers)


async def phone_op(srv: ServerProcess, code: str, token: str | None, op: str,
                   args: dict[str, str]) -> None:
    """The same participant, on another socket (the phone itself is away)."""
    other = Client(srv, name="phone-elsewhere")
    await other.join(code, token=token)
    await other.ok(op, args)
    await other.close()

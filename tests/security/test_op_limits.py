"""Promise: one participant cannot flood a room, however many sockets or server processes
it uses (docs/security.md, Abuse): its ops are limited per participant, atomically in the
op script, while a normal phone is never held back.

The limits (server/lua/ops.lua, "op limits"): every participant op bursts of 30 then 3 a
second; add_note besides bursts of 20 then one per 3 seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.store import Store
from tests.support import Client, Refused, ServerProcess, close_all, create_workshop, running

NOTES_BURST, NOTE_EVERY_S = 20, 3.0
OPS_BURST, OPS_PER_S = 30, 3.0


@pytest.fixture(scope="module")
def pair(redis_url: str, logs_dir: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with running(ServerProcess(redis_url, logs_dir, name="limits-A"),
                 ServerProcess(redis_url, logs_dir, name="limits-B")) as (a, b):
        yield a, b


async def sockets_of(phone: Client, servers: list[ServerProcess], n: int) -> list[Client]:
    """n more sockets with the phone's token, spread over the servers."""
    out = []
    for i in range(n):
        c = Client(servers[i % len(servers)], name=f"{phone.name}-{i}")
        await c.hello(**{**phone.hello_fields, "token": phone.token, "since": None})
        out.append(c)
    return out


async def paced(c: Client, op: str, args: Any, per_second: float, seconds: float) -> list[
        dict[str, Any]]:
    """Send `op` at a steady rate below the per-socket limit (20 a second) for a while,
    without waiting for answers; then wait for every answer."""
    ids = []
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < seconds:
        op_id = c.new_op_id()
        ids.append(op_id)
        await c.send({"type": "op", "op_id": op_id, "op": op, "args": args(i)})
        i += 1
        await asyncio.sleep(max(0.0, start + i / per_second - time.monotonic()))
    answered = set(ids)
    await c.wait_for(lambda: answered <= {str(a.get("op_id")) for a in c.answers}, 15)
    return [a for a in c.answers if a.get("op_id") in answered]


def codes(answers: list[dict[str, Any]]) -> list[str]:
    return [a["error"]["code"] if a["type"] == "nack" else "ack" for a in answers]


@pytest.mark.parametrize("processes", [1, 2])
async def test_one_token_on_ten_sockets_gets_few_notes_on_the_wall(
    pair: tuple[ServerProcess, ServerProcess], store: Store, processes: int
) -> None:
    servers = list(pair[:processes])
    w = await create_workshop(servers[0].url)
    phone = Client(servers[0], name="script")
    await phone.join(w["code"])
    sockets = await sockets_of(phone, servers, 10)
    seconds = 5.0
    start = time.monotonic()
    # 15 notes a second on each socket: within each socket's own limit, 150 a second in all.
    answers = await asyncio.gather(*(
        paced(c, "add_note", lambda i, n=n: {"prompt_id": "q1", "text": f"spam {n}/{i}"},
              15, seconds) for n, c in enumerate(sockets)))
    took = time.monotonic() - start
    every = [a for per_socket in answers for a in per_socket]
    acked = codes(every).count("ack")
    assert set(codes(every)) == {"ack", "too_fast"}, set(codes(every))
    room = await store.load(w["id"])
    assert room is not None
    stored = sum(1 for n in room["notes"].values() if n["author_id"] == phone.pid)
    assert stored == acked
    allowed = NOTES_BURST + took / NOTE_EVERY_S + 1
    assert acked <= allowed, f"{acked} notes in {took:.1f}s (at most {allowed:.0f})"
    assert len(every) > 600  # the script did try
    # A refusal says when to try again, and leaves the sockets open.
    hint = next(a for a in every if a["type"] == "nack")["error"]
    assert hint["message"] and 0 < hint["retry_ms"] <= NOTE_EVERY_S * 1000 + 1
    await asyncio.gather(*(c.ping() for c in sockets))
    await close_all(phone, *sockets)


async def test_450_dots_over_two_processes_budget_and_rate_hold(
    pair: tuple[ServerProcess, ServerProcess], store: Store
) -> None:
    a, b = pair
    w = await create_workshop(a.url)
    fac = Client(a, name="fac")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    writer = Client(b, name="writer")
    await writer.join(w["code"])
    item = (await writer.ok("add_note", {"prompt_id": "q1", "text": "Bankjes"}))["result"][
        "note_id"]
    other = (await writer.ok("add_note", {"prompt_id": "q1", "text": "Bomen"}))["result"][
        "note_id"]
    await fac.ok("set_phase", {"phase": "vote"})
    voter = Client(a, name="voter")
    await voter.join(w["code"])
    sockets = await sockets_of(voter, [a, b], 10)
    start = time.monotonic()

    async def burst(c: Client, n: int) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(
            c.op("vote", {"item_id": item if (n + i) % 3 else other, "delta": 1}, within=20)
            for i in range(45))))

    answers = [x for per in await asyncio.gather(*(
        burst(c, n) for n, c in enumerate(sockets))) for x in per]
    took = time.monotonic() - start
    assert len(answers) == 450
    through = [c for c in codes(answers) if c != "too_fast"]   # reached the vote rules
    allowed = OPS_BURST + took * OPS_PER_S + 1
    assert len(through) <= allowed, f"{len(through)} votes judged in {took:.1f}s"
    assert codes(answers).count("too_fast") >= 450 - allowed
    room = await store.load(w["id"])
    assert room is not None
    ballot = room["ballots"][voter.pid]
    assert sum(ballot.values()) <= 5 and ballot.get(item, 0) <= 3, ballot
    assert room["totals"] == ballot
    await close_all(fac, writer, voter, *sockets)


async def test_a_phone_resending_its_outbox_after_a_reconnect_is_not_refused(
    server: ServerProcess, store: Store
) -> None:
    """20 ops at once, as the phone sends its outbox on a new socket: the 8 that went
    through before the drop are answered again, the 12 new ones are applied."""
    w = await create_workshop(server.url, prompts=["Wat gaat goed?", "Wat kan beter?"])
    phone = Client(server, name="phone")
    await phone.join(w["code"])
    outbox = [(phone.new_op_id(), {"prompt_id": f"q{1 + i % 2}", "text": f"idee {i}"})
              for i in range(19)]
    for op_id, args in outbox[:8]:
        await phone.ok("add_note", args, op_id=op_id)
    await phone.resume()
    answers = await asyncio.gather(
        *(phone.op("add_note", args, op_id=op_id) for op_id, args in outbox),
        phone.op("set_profile", {"name": "Anna"}))
    assert codes(list(answers)) == ["ack"] * 20, answers
    room = await store.load(w["id"])
    assert room is not None
    assert sum(1 for n in room["notes"].values() if n["author_id"] == phone.pid) == 19
    await close_all(phone)


async def test_a_too_fast_op_sent_again_later_is_served(server: ServerProcess) -> None:
    """too_fast means "not now": its answer is not kept under the op id, so the phone's
    outbox sending it again after the hint gets it applied."""
    w = await create_workshop(server.url)
    phone = Client(server, name="eager")
    await phone.join(w["code"])
    answers = await asyncio.gather(*(
        phone.op("add_note", {"prompt_id": "q1", "text": f"n{i}"}) for i in range(NOTES_BURST)))
    assert codes(list(answers)) == ["ack"] * NOTES_BURST
    op_id = phone.new_op_id()
    first = await phone.op("add_note", {"prompt_id": "q1", "text": "later"}, op_id=op_id)
    assert first["type"] == "nack" and first["error"]["code"] == "too_fast"
    await asyncio.sleep(first["error"]["retry_ms"] / 1000)   # the server's hint
    again = await phone.op("add_note", {"prompt_id": "q1", "text": "later"}, op_id=op_id)
    assert again["type"] == "ack", again
    await close_all(phone)


async def test_a_removed_participant_is_shut_out(
    pair: tuple[ServerProcess, ServerProcess], store: Store
) -> None:
    """Its sockets are closed (4401) on every process, its token no longer enters, and an
    op of it that was on its way (here: straight to the store) is refused."""
    a, b = pair
    w = await create_workshop(a.url)
    fac = Client(a, name="fac@A")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    troll = Client(b, name="troll@B")
    await troll.join(w["code"])
    [troll_a] = await sockets_of(troll, [a], 1)
    await troll.ok("add_note", {"prompt_id": "q1", "text": "eerst"})
    await fac.ok("remove_participant", {"participant_id": troll.pid})
    for c in (troll, troll_a):
        assert await c.wait_closed(10) == 4401, c.name
        assert c.close_reason == "removed"   # the phone says so, and does not rejoin
    for server in pair:
        with pytest.raises(Refused) as info:
            await Client(server, name="troll-back").join(w["code"], token=troll.token)
        assert info.value.code == 4401
    late = await store.run(w["id"], "add_note", {"prompt_id": "q1", "text": "te laat"},
                           role="participant", actor=str(troll.pid))
    assert not late.ok and late.code == "wrong_token"
    await close_all(fac)

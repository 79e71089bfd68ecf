"""Promise: what clients send cannot make the store grow without bound (docs/security.md,
"Bounded storage").

- Op answers (kept so that a resend gets its first answer) are bounded per sender: many
  sockets sending refused ops with fresh op ids leave at most ANSWERS_PER_ACTOR answers
  each, and a resend of a recent op still gets its first answer.
- Answers older than ANSWER_HOURS go (here a fraction of a second).
- Notes are capped per participant (`too_many_notes`) and per workshop (`notes_full`);
  a deleted note frees its place.

Each on the real server (with small bounds from the environment) and the real store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server import keys
from server.store import Store
from tests.support import Client, ServerProcess, close_all, create_workshop

ANSWERS = 10
PER_PARTICIPANT = 3
PER_WORKSHOP = 5
SOCKETS = 20
# Under a participant's op-limit burst (30: tests/security/test_op_limits.py), so that
# every op of the flood is judged and answered; still well past ANSWERS.
FLOOD = 25


@pytest.fixture(scope="module")
def bounded(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(redis_url, logs_dir, name="bounded", env={
        "ANSWERS_PER_ACTOR": str(ANSWERS), "NOTES_PER_PARTICIPANT": str(PER_PARTICIPANT),
        "NOTES_PER_WORKSHOP": str(PER_WORKSHOP)})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
        proc.reap()


@pytest.fixture(scope="module")
def forgetful(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(redis_url, logs_dir, name="forgetful",
                         env={"ANSWER_HOURS": str(0.3 / 3600)})  # 0.3 seconds
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
        proc.reap()


def answer_key(client: Client, op_id: str) -> str:
    return f"{client.you['role'][0]}:{client.pid or ''}:{op_id}"


async def test_a_flood_of_refused_ops_keeps_a_bounded_number_of_answers(
        bounded: ServerProcess, store: Store) -> None:
    w = await create_workshop(bounded.url)
    fac = Client(bounded, name="fac")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    phones = [Client(bounded, name=f"phone{i}") for i in range(SOCKETS)]
    await asyncio.gather(*(p.join(w["code"]) for p in phones))
    # Each phone: one op that changes something, then a flood of refused ones (a vote
    # while collecting), every one with a fresh op id; the facilitator floods too.
    firsts = await asyncio.gather(*(p.ok("set_profile", {"name": p.name}) for p in phones))

    async def flood(client: Client, op: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(client.op(op, args) for _ in range(FLOOD))))

    floods = await asyncio.gather(
        *(flood(p, "vote", {"item_id": "x", "delta": 1}) for p in phones),
        flood(fac, "rename_cluster", {"cluster_id": "nope", "title": "t"}))
    codes = {a["error"]["code"] for answers in floods for a in answers if a["type"] == "nack"}
    assert codes == {"wrong_phase", "no_cluster"}

    ops = keys.workshop_key(w["id"], "ops")
    ages = keys.workshop_key(w["id"], "opsage")
    fields = await store.redis.hkeys(ops)
    answers = [f for f in fields if not f.startswith("#")]
    senders = SOCKETS + 1
    assert len(answers) <= senders * ANSWERS, len(answers)
    # Per answer: the answer and its slot; per sender: one counter.
    assert len(fields) <= senders * (2 * ANSWERS + 1)
    assert await store.redis.zcard(ages) <= senders * ANSWERS
    per_sender: dict[str, int] = {}
    for f in answers:
        owner = f.rsplit(":", 1)[0]
        per_sender[owner] = per_sender.get(owner, 0) + 1
    assert max(per_sender.values()) == ANSWERS
    assert await store.redis.pttl(ages) > 0  # it expires with the workshop

    # The latest answers are still there: a resend gets the first answer, applied once.
    phone = phones[0]
    first = await phone.ok("set_profile", {"name": "Anna"})
    again = await phone.op("set_profile", {"name": "Bram"}, op_id=first["op_id"])
    assert again == first
    last_refused = floods[0][-1]
    resent = await phone.op("vote", {"item_id": "x", "delta": 1},
                            op_id=str(last_refused["op_id"]))
    assert resent["type"] == "nack" and resent["error"] == last_refused["error"]
    # An answer long gone (the first of FLOOD + 2 ops) is not kept.
    assert not await store.redis.hexists(ops, answer_key(phone, firsts[0]["op_id"]))
    await close_all(fac, *phones)


async def test_answers_go_after_their_time(forgetful: ServerProcess, store: Store) -> None:
    w = await create_workshop(forgetful.url)
    phone = Client(forgetful, name="phone")
    await phone.join(w["code"])
    first = await phone.ok("set_profile", {"name": "Anna"})
    ops = keys.workshop_key(w["id"], "ops")
    key = answer_key(phone, first["op_id"])
    assert await store.redis.hexists(ops, key)
    # Later ops (refused ones too) sweep out what is past its time.
    deadline = asyncio.get_running_loop().time() + 15
    while await store.redis.hexists(ops, key):
        assert asyncio.get_running_loop().time() < deadline, "the old answer stays"
        await phone.op("vote", {"item_id": "x", "delta": 1})
        await asyncio.sleep(0.05)  # the poll's pace, within the op rate limit
    # What stays is what came within the time: each answer with its slot, nothing else.
    answers = [f for f in await store.redis.hkeys(ops) if not f.startswith("#")]
    assert len(answers) == await store.redis.zcard(keys.workshop_key(w["id"], "opsage"))
    await close_all(phone)


async def test_notes_are_capped_per_participant_and_per_workshop(
        bounded: ServerProcess, store: Store) -> None:
    w = await create_workshop(bounded.url)
    fac, anna, bram = Client(bounded, name="fac"), Client(bounded), Client(bounded)
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    await anna.join(w["code"])
    await bram.join(w["code"], lang="en")
    note = {"prompt_id": "q1", "text": "Meer groen"}
    mine = [(await anna.ok("add_note", note))["result"]["note_id"]
            for _ in range(PER_PARTICIPANT)]
    refused = await anna.refused("add_note", note)
    assert refused == {"code": "too_many_notes",
                       "message": f"Je hebt al {PER_PARTICIPANT} briefjes. Haal er eerst een "
                                  "weg."}
    await anna.ok("delete_note", {"note_id": mine[0]})
    mine[0] = (await anna.ok("add_note", note))["result"]["note_id"]
    # Hiding keeps a note (and its place); the facilitator deleting one frees it.
    await fac.ok("moderate_note", {"note_id": mine[1], "hidden": True})
    assert (await anna.refused("add_note", note))["code"] == "too_many_notes"
    await fac.ok("delete_note", {"note_id": mine[1]})
    await anna.ok("add_note", note)

    await bram.ok("add_note", note)
    await bram.ok("add_note", note)  # the workshop has PER_WORKSHOP notes now
    full = await bram.refused("add_note", note)
    assert full == {"code": "notes_full",
                    "message": f"This session already has {PER_WORKSHOP} notes. No more can "
                               "be added."}
    assert len(await store.redis.hkeys(keys.workshop_key(w["id"], "notes"))) == PER_WORKSHOP
    await close_all(fac, anna, bram)


async def test_paper_notes_count_under_the_workshops_cap(bounded: ServerProcess) -> None:
    """Paper notes obey the workshop's cap like phone notes (they have no author, so no
    participant's cap): the note that would pass it is refused, nothing is stored."""
    w = await create_workshop(bounded.url)
    fac, anna = Client(bounded, name="fac"), Client(bounded)
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    await anna.join(w["code"])
    card = {"prompt_id": "q1", "text": "Van een kaartje", "perspective": None}
    for _ in range(PER_WORKSHOP - 1):
        await fac.ok("add_paper_note", card)
    await anna.ok("add_note", {"prompt_id": "q1", "text": "Van de telefoon"})
    full = await fac.refused("add_paper_note", card)
    assert full["code"] == "notes_full"
    assert (await anna.refused("add_note", {"prompt_id": "q1", "text": "nog een"}))["code"] \
        == "notes_full"
    await close_all(fac, anna)

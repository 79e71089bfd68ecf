"""Acceptance 4: a phone that loses its socket misses nothing and repeats nothing.

After a reconnect with `since`, the server replays exactly the events missed, in order,
once; an op sent again with the same op_id gets its first answer and is applied once.
"""

from __future__ import annotations

import asyncio

from server.store import Store
from tests.support import Client, ServerProcess, close_all, create_workshop


async def test_missed_notes_are_replayed_once_in_order(server: ServerProcess) -> None:
    w = await create_workshop(server.url)
    phone = Client(server, name="phone")
    writer = Client(server, name="writer")
    await phone.join(w["code"])
    await writer.join(w["code"])
    # Three writers take turns: 30 notes in a moment are more than one participant's
    # burst of notes (tests/security/test_op_limits.py).
    writers = [writer, Client(server, name="writer2"), Client(server, name="writer3")]
    for other in writers[1:]:
        await other.join(w["code"])
    first = await writer.ok("add_note", {"prompt_id": "q1", "text": "voor het gat"})
    await phone.wait_seq(first["seq"])
    since = phone.seq
    seen_before = len(phone.events)

    await phone.drop()
    acks = [await writers[i % 3].ok("add_note", {"prompt_id": "q1", "text": f"gemist {i}"})
            for i in range(30)]
    missed = [a["result"]["note_id"] for a in acks]

    welcome = await phone.resume()
    assert welcome["seq"] == since
    assert welcome["you"]["participant_id"] == phone.pid
    await phone.wait_seq(acks[-1]["seq"])
    replayed = phone.events[seen_before:]
    assert [e["kind"] for e in replayed] == ["note_added"] * 30
    assert [e["data"]["note_id"] for e in replayed] == missed
    assert [e["seq"] for e in replayed] == [a["seq"] for a in acks]
    assert [e["data"]["note"]["text"] for e in replayed] == [f"gemist {i}" for i in range(30)]
    assert phone.violations == []

    # Live again: the next note arrives once, and the state holds all 31 notes.
    after = await writer.ok("add_note", {"prompt_id": "q1", "text": "weer live"})
    await phone.wait_seq(after["seq"])
    ids = [e["data"]["note_id"] for e in phone.events if e["kind"] == "note_added"]
    assert len(ids) == len(set(ids)) == 32
    assert phone.state is not None and len(phone.state["notes"]) == 32
    # Nothing else trickles in: events come in seq order, so once a later note has
    # arrived, a second copy of the last one would have come before it.
    marker = await writers[1].ok("add_note", {"prompt_id": "q1", "text": "daarna"})
    await phone.wait_seq(marker["seq"])
    assert [e["seq"] for e in phone.events].count(after["seq"]) == 1
    assert phone.violations == []
    await close_all(phone, *writers)


async def test_reconnects_while_notes_keep_coming(server: ServerProcess) -> None:
    """Drop and resume again and again during a stream of writes: every note once, in order."""
    w = await create_workshop(server.url)
    phone = Client(server, name="phone")
    await phone.join(w["code"])
    # Three writers take turns: 50 notes in a moment are more than one participant's
    # burst of notes (tests/security/test_op_limits.py).
    writers = [Client(server, name=f"writer{i}") for i in range(3)]
    for writer in writers:
        await writer.join(w["code"])
    start = len(phone.events)
    seqs: list[int] = []

    async def write() -> list[str]:
        ids = []
        for i in range(50):
            ack = await writers[i % 3].ok("add_note", {"prompt_id": "q1",
                                                       "text": f"stroom {i}"})
            ids.append(ack["result"]["note_id"])
            seqs.append(ack["seq"])
        return ids

    task = asyncio.create_task(write())
    for pause in (0.0, 0.01, 0.03, 0.0, 0.05, 0.02):
        # The scenario, not a wait: resume at varied moments of the stream.
        await asyncio.sleep(pause)
        await phone.resume()
    written = await task
    last = seqs[-1]
    await phone.wait_seq(last)
    got = [e["data"]["note_id"] for e in phone.events[start:] if e["kind"] == "note_added"]
    assert got == written
    assert phone.violations == []
    # The state holds each once (ordered by created_at, then id: not by seq).
    assert sorted(n["id"] for n in phone.state["notes"]) == sorted(written)  # type: ignore[index]
    await close_all(phone, *writers)


async def test_resume_from_an_old_seq_gets_a_snapshot_or_replay_never_duplicates(
    server: ServerProcess,
) -> None:
    w = await create_workshop(server.url)
    phone = Client(server, name="phone")
    await phone.join(w["code"])
    other = Client(server, name="other")
    await other.join(w["code"])
    last = None
    for i in range(5):
        last = await other.ok("add_note", {"prompt_id": "q1", "text": f"n{i}"})
    assert last is not None
    await phone.wait_seq(last["seq"])
    # A seq from the future (another workshop, a corrupt phone): a fresh state.
    welcome = await phone.resume(since=last["seq"] + 1000)
    assert welcome["state"] is not None
    assert welcome["seq"] == last["seq"]
    assert len(welcome["state"]["notes"]) == 5
    await close_all(phone, other)


async def test_repeated_op_id_gets_the_first_answer(server: ServerProcess, store: Store) -> None:
    w = await create_workshop(server.url)
    phone = Client(server, name="phone")
    await phone.join(w["code"])

    # 1. The answer arrived, then the socket dropped; the outbox sends it again.
    op_id = phone.new_op_id()
    first = await phone.ok("add_note", {"prompt_id": "q1", "text": "eenmaal"}, op_id=op_id)
    await phone.resume()
    again = await phone.op("add_note", {"prompt_id": "q1", "text": "eenmaal"}, op_id=op_id)
    assert again == first

    # 2. The socket dropped before the answer could arrive.
    lost_id = phone.new_op_id()
    await phone.send({"type": "op", "op_id": lost_id, "op": "add_note",
                      "args": {"prompt_id": "q1", "text": "antwoord kwijt"}})
    await phone.drop()
    await phone.resume()
    resent = await phone.ok("add_note", {"prompt_id": "q1", "text": "antwoord kwijt"},
                            op_id=lost_id)
    third = await phone.op("add_note", {"prompt_id": "q1", "text": "antwoord kwijt"},
                           op_id=lost_id)
    assert third == resent
    await phone.wait_seq(resent["seq"])

    # 3. A refused op is refused the same way again (not retried against a new state).
    vote_id = phone.new_op_id()
    nack = await phone.op("vote", {"item_id": first["result"]["note_id"], "delta": 1},
                          op_id=vote_id)
    assert nack["type"] == "nack" and nack["error"]["code"] == "wrong_phase"
    fac = Client(server, name="facilitator")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    await fac.ok("set_phase", {"phase": "vote"})
    assert await phone.op("vote", {"item_id": first["result"]["note_id"], "delta": 1},
                          op_id=vote_id) == nack

    # Each op was applied exactly once.
    room = await store.load(w["id"])
    assert room is not None
    texts = sorted(n["text"] for n in room["notes"].values())
    assert texts == ["antwoord kwijt", "eenmaal"]
    assert room["ballots"] == {}
    added = [e for e in phone.events if e["kind"] == "note_added"]
    assert sorted(e["data"]["note"]["text"] for e in added) == texts
    assert phone.violations == []

    # The same op_id from another participant is its own op.
    stranger = Client(server, name="stranger")
    await stranger.join(w["code"])
    await fac.ok("set_phase", {"phase": "collect"})
    theirs = await stranger.ok("add_note", {"prompt_id": "q1", "text": "van een ander"},
                               op_id=op_id)
    assert theirs["result"]["note_id"] != first["result"]["note_id"]
    await close_all(phone, fac, stranger)

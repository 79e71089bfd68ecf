"""The Lua script applies the rules of server/rules.py inside Redis, atomically.

Driven through server.store.Store on the real Redis (no server process): random vote
sequences give exactly the answers that server.votes.check_vote gives; refused ops store and
emit nothing; every ack's seq is one event in the stream, in order.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from server.args import clean_args, clean_workshop
from server.errors import DomainError
from server.store import Store
from server.votes import check_vote
from tests.support import CREATED


async def new_workshop(store: Store, people: int = 3, **settings: Any) -> tuple[str, list[str]]:
    clean = clean_workshop({"title": "Store", "prompts": ["Vraag"], "settings": settings})
    created = await store.create_workshop(clean)
    CREATED.append(created["id"])
    pids = [(await store.join(created["id"]))[0] for _ in range(people)]
    return created["id"], pids


async def run(store: Store, wid: str, op: str, args: dict[str, Any], role: str,
              actor: str = "") -> Any:
    room = await store.load(wid)
    assert room is not None
    cleaned = clean_args(op, args, room["workshop"]["settings"])
    return await store.run(wid, op, cleaned, role=role, actor=actor)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_lua_votes_follow_check_vote(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    budget = rng.randint(2, 6)
    limits = {"votes_per_participant": budget, "max_votes_per_item": rng.randint(1, budget)}
    # Ten voters: 150 votes in a few milliseconds stay within each one's op limit
    # (bursts of 30), so that the answers are the rule's, not too_fast.
    wid, pids = await new_workshop(store, 10, **limits)
    items = []
    for i in range(3):
        answer = await run(store, wid, "add_note", {"prompt_id": "q1", "text": f"n{i}"},
                           "participant", pids[i])
        items.append(answer.result["note_id"])
    await run(store, wid, "set_phase", {"phase": "vote"}, "facilitator")

    model: dict[str, dict[str, int]] = {}
    for _ in range(150):
        pid, item, delta = rng.choice(pids), rng.choice(items), rng.choice([1, 1, -1])
        ballot = model.get(pid, {})
        try:
            expected: dict[str, int] | DomainError = check_vote(ballot, item, delta, limits)
        except DomainError as err:
            expected = err
        answer = await store.run(wid, "vote", {"item_id": item, "delta": delta},
                                 role="participant", actor=pid)
        if isinstance(expected, DomainError):
            assert not answer.ok and answer.code == expected.code, (ballot, item, delta, answer)
        else:
            assert answer.ok, (ballot, item, delta, answer)
            assert answer.result["mine"] == expected
            model[pid] = expected
    room = await store.load(wid)
    assert room is not None
    assert room["ballots"] == {pid: b for pid, b in model.items() if b}
    totals: dict[str, int] = {}
    for b in model.values():
        for item, n in b.items():
            totals[item] = totals.get(item, 0) + n
    assert room["totals"] == totals


async def test_refused_ops_store_and_emit_nothing(store: Store) -> None:
    wid, pids = await new_workshop(store)
    note = (await run(store, wid, "add_note", {"prompt_id": "q1", "text": "a"}, "participant",
                      pids[0])).result["note_id"]
    await run(store, wid, "set_phase", {"phase": "vote"}, "facilitator")
    for _ in range(3):
        await store.run(wid, "vote", {"item_id": note, "delta": 1}, role="participant",
                        actor=pids[1])
    before = await store.load(wid)
    refusals = [
        ("add_note", {"prompt_id": "q1", "text": "te laat"}, "participant", pids[0],
         "wrong_phase"),
        ("vote", {"item_id": note, "delta": 1}, "participant", pids[1], "item_full"),
        ("vote", {"item_id": note, "delta": -1}, "participant", pids[2], "no_vote_to_remove"),
        ("vote", {"item_id": "nope", "delta": 1}, "participant", pids[2], "no_item"),
        ("edit_note", {"note_id": note, "text": "x"}, "participant", pids[1], "not_own_note"),
        ("delete_note", {"note_id": note}, "participant", pids[1], "not_own_note"),
        ("rename_cluster", {"cluster_id": "nope", "title": "x"}, "facilitator", "",
         "no_cluster"),
        ("cluster", {"note_ids": [note, "nope"], "cluster_id": None}, "facilitator", "",
         "no_note"),
        # Below what a participant already placed.
        ("update_settings", {"votes_per_participant": 2, "max_votes_per_item": 2},
         "facilitator", "", "bad_setting"),
    ]
    for op, args, role, actor, code in refusals:
        answer = await run(store, wid, op, args, role, actor)
        assert not answer.ok and answer.code == code, (op, answer)
    assert await store.load(wid) == before
    events = await store.events_after(wid, 0)
    assert [e.seq for e in events] == list(range(1, before["seq"] + 1))   # type: ignore[index]


async def test_closed_refuses_everything_but_phase_and_settings(store: Store) -> None:
    wid, pids = await new_workshop(store)
    note = (await run(store, wid, "add_note", {"prompt_id": "q1", "text": "a"}, "participant",
                      pids[0])).result["note_id"]
    await run(store, wid, "set_phase", {"phase": "closed"}, "facilitator")
    before = await store.load(wid)
    for op, args, role, actor in [
        ("delete_note", {"note_id": note}, "participant", pids[0]),
        ("set_profile", {"name": "Anna"}, "participant", pids[0]),
        ("moderate_note", {"note_id": note, "hidden": True}, "facilitator", ""),
        ("timer", {"action": "start", "seconds": 5}, "facilitator", ""),
        ("cluster", {"note_ids": [note], "cluster_id": None}, "facilitator", ""),
        ("set_lock", {"locked": True}, "facilitator", ""),
    ]:
        answer = await run(store, wid, op, args, role, actor)
        assert not answer.ok and answer.code == "closed", (op, answer)
    assert await store.load(wid) == before
    assert (await run(store, wid, "update_settings", {"anonymous": False}, "facilitator")).ok
    assert (await run(store, wid, "set_phase", {"phase": "results"}, "facilitator")).ok


async def test_every_ack_is_one_event_in_order(store: Store) -> None:
    wid, pids = await new_workshop(store)
    acks = []
    for i in range(10):
        acks.append(await run(store, wid, "add_note", {"prompt_id": "q1", "text": f"n{i}"},
                              "participant", pids[i % 3]))
    acks.append(await run(store, wid, "set_phase", {"phase": "cluster"}, "facilitator"))
    acks.append(await run(store, wid, "set_phase", {"phase": "cluster"}, "facilitator"))
    seqs = [a.seq for a in acks]
    assert seqs[-1] is None        # no change, no event
    assert seqs[:-1] == list(range(seqs[0], seqs[0] + 11))
    events = {e.seq: e for e in await store.events_after(wid, seqs[0] - 1)}
    assert [events[s].kind for s in seqs[:-1]] == ["note_added"] * 10 + ["phase_changed"]
    assert [events[s].data["note"]["id"] for s in seqs[:10]] == [a.result["note_id"]
                                                                 for a in acks[:10]]


async def test_repeated_answer_key_is_answered_from_memory(store: Store) -> None:
    wid, pids = await new_workshop(store)
    args = {"prompt_id": "q1", "text": "eenmaal"}
    first = await store.run(wid, "add_note", args, role="participant", actor=pids[0],
                            answer_key=f"p:{pids[0]}:op-1")
    again = await store.run(wid, "add_note", args, role="participant", actor=pids[0],
                            answer_key=f"p:{pids[0]}:op-1")
    assert again == first
    room = await store.load(wid)
    assert room is not None and len(room["notes"]) == 1

"""Approval before the wall (setting approval_required, op approve_notes).

A participant's new note waits (`pending: true`): only its author and the facilitator
get it, in no welcome, live event or replay after `since` of the wall or another phone;
it is no item. `approve_notes` sends it to everyone as `note_approved`; approving what
does not wait is a no-op with a clear answer. Every screen's applied state must equal a
fresh welcome afterwards.
"""

from __future__ import annotations

from typing import Any

import orjson

from tests.support import Client, ServerProcess, close_all, create_workshop
from tests.support.fresh import fresh_equal


def said(client: Client, text: str) -> bool:
    """Whether this text was in any frame the client ever got (welcome, event, replay)."""
    return text.encode() in orjson.dumps(client.frames)


async def room(server: ServerProcess, **settings: Any) -> tuple[dict[str, Any], list[Client]]:
    w = await create_workshop(server.url, settings={"approval_required": True, **settings})
    fac, wall = Client(server, name="facilitator"), Client(server, name="wall")
    author, other = Client(server, name="author"), Client(server, name="other")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    await wall.staff("projector", w["id"], w["view_key"])
    await author.join(w["code"])
    await other.join(w["code"])
    return w, [fac, wall, author, other]


async def everyone_at(screens: list[Client], seq: int) -> None:
    for c in screens:
        await c.wait_seq(seq)


async def test_a_pending_note_reaches_only_its_author_and_the_facilitator(
    server: ServerProcess,
) -> None:
    w, screens = await room(server)
    fac, wall, author, other = screens
    await fac.ok("add_paper_note", {"prompt_id": "q1", "text": "voor het wachten",
                                    "perspective": None})
    # The other phone and the wall are away while the note comes in: their replay
    # after `since` must not hold it either.
    await other.drop()
    await wall.drop()
    ack = await author.ok("add_note", {"prompt_id": "q1", "text": "GEHEIM wacht nog"})
    nid = ack["result"]["note_id"]
    await author.ok("edit_note", {"note_id": nid, "text": "GEHEIM nog steeds"})
    marker = await fac.ok("timer", {"action": "start", "seconds": 60})
    await other.resume()
    await wall.resume()
    await everyone_at(screens, marker["seq"])

    mine = {n["id"]: n for n in author.state["notes"]}  # type: ignore[index]
    assert mine[nid]["pending"] is True and mine[nid]["source"] == "phone"
    assert {n["id"]: n for n in fac.state["notes"]}[nid]["pending"] is True  # type: ignore[index]
    for c in (wall, other):
        assert not said(c, "GEHEIM"), c.name
        assert nid.encode() not in orjson.dumps(c.frames), c.name
        assert [n["text"] for n in c.state["notes"]] == ["voor het wachten"]  # type: ignore[index]
    # A fresh welcome of the wall and of another phone: nothing of it either.
    newcomer, wall2 = Client(server, name="newcomer"), Client(server, name="wall2")
    await newcomer.join(w["code"])
    await wall2.staff("projector", w["id"], w["view_key"])
    assert not said(newcomer, "GEHEIM") and not said(wall2, "GEHEIM")

    # A pending note is no item: no dots on it.
    await fac.ok("set_phase", {"phase": "vote"})
    assert (await other.refused("vote", {"item_id": nid, "delta": 1}))["code"] == "no_item"
    assert (await author.refused("vote", {"item_id": nid, "delta": 1}))["code"] == "no_item"
    await fac.ok("set_phase", {"phase": "collect"})

    # Approved: everyone gets it as note_approved, in order, once.
    start = {c.name: len(c.events) for c in screens}
    ok = await fac.ok("approve_notes", {"note_ids": [nid]})
    assert ok["result"] == {"approved": [nid]}
    await everyone_at(screens, ok["seq"])
    for c in screens:
        got = [e for e in c.events[start[c.name]:] if e["kind"] == "note_approved"]
        assert len(got) == 1 and got[0]["seq"] == ok["seq"], c.name
        assert got[0]["data"]["note"]["text"] == "GEHEIM nog steeds", c.name
        assert got[0]["data"]["note"]["pending"] is False, c.name
    assert other.state is not None and "GEHEIM nog steeds" in [
        n["text"] for n in other.state["notes"]]
    await fresh_equal(server, [*screens, newcomer, wall2])
    await close_all(*screens, newcomer, wall2)


async def test_approving_what_does_not_wait_is_a_clear_no_op(server: ServerProcess) -> None:
    _, screens = await room(server)
    fac, wall, author, other = screens
    ids = [(await author.ok("add_note", {"prompt_id": "q1", "text": f"wacht {i}"}))
           ["result"]["note_id"] for i in range(4)]
    await fac.ok("approve_notes", {"note_ids": [ids[0]]})
    await author.ok("delete_note", {"note_id": ids[1]})
    hidden = await fac.ok("moderate_note", {"note_id": ids[2], "hidden": True})
    paper = (await fac.ok("add_paper_note", {"prompt_id": "q1", "text": "van papier",
                                             "perspective": None}))["result"]["note_id"]
    await wall.wait_seq(hidden["seq"])
    for nid, why in ((ids[0], "approved"), (ids[1], "deleted"), (ids[2], "hidden"),
                     (paper, "paper"), ("geen-briefje", "unknown")):
        before = len(wall.events)
        error = await fac.refused("approve_notes", {"note_ids": [nid]})
        assert error["code"] == "not_pending", why
        assert "goedkeuring" in error["message"], why
        assert len(wall.events) == before, why
    # A list with some waiting: those are approved, the rest named with a reason.
    mixed = await fac.ok("approve_notes", {"note_ids": [ids[3], ids[0], ids[1], ids[2]]})
    assert mixed["result"]["approved"] == [ids[3]]
    assert mixed["result"]["skipped"] == [
        {"note_id": ids[0], "reason": "not_pending"}, {"note_id": ids[1], "reason": "no_note"},
        {"note_id": ids[2], "reason": "hidden"}]
    # The deleted and the hidden one waited: nobody but author and facilitator heard of them.
    for c in (wall, other):
        await c.wait_seq(mixed["seq"])
        for nid in ids[1:3]:
            assert nid.encode() not in orjson.dumps(c.frames), c.name
    # Who may: the facilitator only; closed is the wrong phase.
    for c in (author, wall):
        assert (await c.refused("approve_notes", {"note_ids": [ids[3]]}))["code"] == "not_allowed"
    assert (await fac.refused("approve_notes", {"note_ids": []}))["code"] == "bad_args"
    await fac.ok("set_phase", {"phase": "closed"})
    assert (await fac.refused("approve_notes", {"note_ids": [ids[3]]}))["code"] == "wrong_phase"
    await fresh_equal(server, screens)
    await close_all(*screens)


async def test_an_edited_note_waits_again_and_leaves_the_wall(server: ServerProcess) -> None:
    _, screens = await room(server)
    fac, wall, author, other = screens
    nid = (await author.ok("add_note", {"prompt_id": "q1", "text": "netjes"}))["result"]["note_id"]
    ok = await fac.ok("approve_notes", {"note_ids": [nid]})
    await wall.wait_seq(ok["seq"])
    assert [n["text"] for n in wall.state["notes"]] == ["netjes"]  # type: ignore[index]
    edit = await author.ok("edit_note", {"note_id": nid, "text": "ONGEPAST na goedkeuring"})
    marker = await fac.ok("timer", {"action": "start", "seconds": 30})
    await everyone_at(screens, marker["seq"])
    for c in (wall, other):
        assert c.state is not None and c.state["notes"] == [], c.name
        assert not said(c, "ONGEPAST"), c.name
    assert [n["pending"] for n in author.state["notes"]] == [True]  # type: ignore[index]
    assert edit["seq"] is not None
    await fresh_equal(server, screens)
    await close_all(*screens)


async def test_switching_approval_off_lets_new_notes_through_and_keeps_the_waiting(
    server: ServerProcess,
) -> None:
    _, screens = await room(server)
    fac, wall, author, other = screens
    held = (await author.ok("add_note", {"prompt_id": "q1", "text": "WACHTEND"}))["result"]
    await fac.ok("update_settings", {"approval_required": False})
    free = await author.ok("add_note", {"prompt_id": "q1", "text": "meteen zichtbaar"})
    await everyone_at(screens, free["seq"])
    for c in (wall, other):
        assert [n["text"] for n in c.state["notes"]] == ["meteen zichtbaar"]  # type: ignore[index]
        assert not said(c, "WACHTEND")
    # Still waiting, and approvable with the setting off.
    ok = await fac.ok("approve_notes", {"note_ids": [held["note_id"]]})
    await everyone_at(screens, ok["seq"])
    assert sorted(n["text"] for n in wall.state["notes"]) == [  # type: ignore[index]
        "WACHTEND", "meteen zichtbaar"]
    await fresh_equal(server, screens)
    await close_all(*screens)


async def test_private_writing_and_approval_together(server: ServerProcess) -> None:
    """With private writing the author still sees its note approved (its own cut)."""
    _, screens = await room(server, private_writing=True)
    fac, wall, author, other = screens
    nid = (await author.ok("add_note", {"prompt_id": "q1", "text": "prive"}))["result"]["note_id"]
    await fac.ok("approve_notes", {"note_ids": [nid]})
    # (The other phone gets no note_approved while writing privately: wait for a marker.)
    marker = await fac.ok("timer", {"action": "start", "seconds": 30})
    await everyone_at(screens, marker["seq"])
    assert [n["pending"] for n in author.state["notes"]] == [False]  # type: ignore[index]
    assert other.state is not None and other.state["notes"] == []
    assert [n["text"] for n in wall.state["notes"]] == ["prive"]  # type: ignore[index]
    phase = await fac.ok("set_phase", {"phase": "cluster"})
    await everyone_at(screens, phase["seq"])
    assert [n["text"] for n in other.state["notes"]] == ["prive"]  # type: ignore[index]
    await fresh_equal(server, screens)
    await close_all(*screens)

"""Issue 13, participants in the loop: "I'm done" (`set_done`) and reactions on notes
(`react`), over the real server and store.

- per op and role: who may send it, in which phases, what each screen then shows, and
  that every screen's state equals a fresh welcome of it;
- bad input (an unknown emoji, a hidden, deleted or unseen note, a closed workshop) is
  refused with a clear message in the user's language and changes nothing;
- a phone that sleeps and comes back (resume, a reload, a resent op) keeps its "done" and
  never reacts twice;
- taps that race (many sockets of one participant, many participants) count once per
  person and emoji;
- a removed participant's reactions and "done" go with it; a hidden note's reactions too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from server.rules import REACTIONS
from server.store import Store
from tests.support import Client, ServerProcess, close_all, create_workshop
from tests.support.fresh import fresh_equal

THUMBS, HEART, IDEA, QUESTION = REACTIONS


async def room_of(server: ServerProcess, settings: dict[str, Any] | None = None, phones: int = 3
                  ) -> tuple[dict[str, Any], Client, Client, list[Client]]:
    w = await create_workshop(server.url, settings=settings)
    fac = Client(server, name="facilitator")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    wall = Client(server, name="wall")
    await wall.staff("projector", w["id"], w["view_key"])
    people = [Client(server, name=f"phone{i}") for i in range(phones)]
    for p in people:
        await p.join(w["code"])
    return w, fac, wall, people


def done_of(c: Client) -> int:
    assert c.state is not None
    done: int = c.state["participants"].get("done", -1)
    return done


def note_of(c: Client, nid: str) -> dict[str, Any]:
    """The note as the screen has it ({} while it has not come yet)."""
    assert c.state is not None
    return next((n for n in c.state["notes"] if n["id"] == nid), {})


async def note(c: Client, text: str) -> str:
    nid: str = (await c.ok("add_note", {"prompt_id": "q1", "text": text}))["result"]["note_id"]
    return nid


# ------------------------------------------------------------------------- set_done


async def test_done_counts_on_every_screen_resets_with_the_phase_and_can_be_taken_back(
    server: ServerProcess, store: Store
) -> None:
    w, fac, wall, (a, b, c) = await room_of(server)
    screens = [fac, wall, a, b, c]
    assert all(done_of(s) == 0 for s in screens)
    assert a.state is not None and a.state["me"]["done"] is False

    ack = await a.ok("set_done", {"done": True})
    assert ack["seq"] is not None
    await b.ok("set_done", {"done": True})
    for s in screens:
        await s.wait_for(lambda s=s: done_of(s) == 2, what="2 done")
    assert a.state["me"]["done"] is True
    assert c.state is not None and c.state["me"]["done"] is False
    # The facilitator learns whose flag it was; phones and the wall only the count.
    ev = next(e for e in reversed(fac.events) if e["kind"] == "participant_done")
    assert ev["data"] == {"participants_done": 2, "done": True, "participant_id": b.pid}
    ev = next(e for e in reversed(wall.events) if e["kind"] == "participant_done")
    assert ev["data"] == {"participants_done": 2}
    ev = next(e for e in reversed(c.events) if e["kind"] == "participant_done")
    assert ev["data"] == {"participants_done": 2}

    # Saying it again changes nothing; taking it back does.
    again = await a.ok("set_done", {"done": True})
    assert again["seq"] is None
    await b.ok("set_done", {"done": False})
    for s in screens:
        await s.wait_for(lambda s=s: done_of(s) == 1, what="1 done")
    assert b.state is not None and b.state["me"]["done"] is False
    await fresh_equal(server, screens)

    # A new phase: nobody is done in it.
    await fac.ok("set_phase", {"phase": "cluster"})
    for s in screens:
        await s.wait_for(lambda s=s: done_of(s) == 0 and s.state["workshop"]["phase"] == "cluster",
                         what="reset by the phase")
    assert a.state["me"]["done"] is False
    await fresh_equal(server, screens)
    # In the store too, in the same step (a process that loads the room afresh agrees).
    stored = await store.load(w["id"])
    assert not any(p.get("done") for p in stored["participants"].values())
    # ... and it can be said again in the new phase.
    await c.ok("set_done", {"done": True})
    await wall.wait_for(lambda: done_of(wall) == 1, what="1 done in cluster")
    await fresh_equal(server, screens)
    await close_all(*screens)


async def test_set_done_roles_bad_args_and_closed(server: ServerProcess, store: Store) -> None:
    w, fac, wall, (a,) = await room_of(server, phones=1)
    assert (await fac.refused("set_done", {"done": True}))["code"] == "not_allowed"
    assert (await wall.refused("set_done", {"done": True}))["code"] == "not_allowed"
    bad = await a.refused("set_done", {"done": "yes"})
    assert bad["code"] == "bad_args" and "done" in bad["message"]
    await a.ok("set_done", {"done": True})
    await fac.ok("set_phase", {"phase": "closed"})
    before = await store.load(w["id"])
    for done in (True, False):
        refused = await a.refused("set_done", {"done": done})
        assert refused["code"] == "closed"
        assert refused["message"] == "Deze sessie is afgesloten."
    after = await store.load(w["id"])
    assert after["participants"] == before["participants"]
    assert after["seq"] == before["seq"]
    # In English too.
    en = Client(server, name="en")
    await en.join(w["code"], token=a.token, lang="en")
    assert (await en.refused("set_done", {"done": True}))["message"] == "This session is closed."
    await close_all(fac, wall, a, en)


async def test_done_survives_a_sleeping_phone(server: ServerProcess) -> None:
    """A phone that sleeps: its "done" is there after a resume, after a reload, and an op
    sent again after the connection dropped is not applied twice."""
    _w, fac, wall, (a, b) = await room_of(server, phones=2)
    op_id = a.new_op_id()
    first = await a.op("set_done", {"done": True}, op_id=op_id)
    assert first["type"] == "ack"
    await a.drop()
    await b.ok("set_done", {"done": True})
    await b.ok("set_done", {"done": False})
    await a.resume()
    await a.wait_for(lambda: done_of(a) == 1, what="done after resume")
    assert a.state is not None and a.state["me"]["done"] is True
    # The phone sends the same op again (it did not see the ack): the first answer.
    resent = await a.op("set_done", {"done": True}, op_id=op_id)
    assert resent == first
    reload = await a.twin()
    assert reload.state is not None and reload.state["me"]["done"] is True
    assert reload.state["participants"]["done"] == 1
    await fresh_equal(server, [fac, wall, a, b])
    await close_all(fac, wall, a, b, reload)


# ---------------------------------------------------------------------------- react


async def test_reactions_counted_shown_and_never_who(server: ServerProcess) -> None:
    _w, fac, wall, (a, b, c) = await room_of(server)
    n1 = await note(a, "Meer groen")
    n2 = await note(b, "Een markt")
    await b.ok("react", {"note_id": n1, "emoji": THUMBS, "on": True})
    await c.ok("react", {"note_id": n1, "emoji": THUMBS, "on": True})
    await c.ok("react", {"note_id": n1, "emoji": HEART, "on": True})
    await a.ok("react", {"note_id": n1, "emoji": IDEA, "on": True})   # own note: fine
    await a.ok("react", {"note_id": n2, "emoji": QUESTION, "on": True})
    want = {THUMBS: 2, HEART: 1, IDEA: 1}
    for s in (fac, wall, a, b, c):
        await s.wait_for(lambda s=s: note_of(s, n1).get("reactions") == want, what="counts")
    assert note_of(c, n1).get("my_reactions") == [THUMBS, HEART]
    assert note_of(b, n1).get("my_reactions") == [THUMBS]
    assert note_of(a, n1).get("my_reactions") == [IDEA]
    # (Its own event, the last: waited for, not assumed to have come with n1's.)
    await a.wait_for(lambda: note_of(a, n2).get("my_reactions") == [QUESTION], what="mine")
    assert "my_reactions" not in note_of(wall, n1) and "my_reactions" not in note_of(fac, n1)
    # Nobody is told who reacted: no participant id in any reaction event of anyone.
    pids = {a.pid, b.pid, c.pid}
    for s in (fac, wall, a, b, c):
        for e in s.events:
            if e["kind"] == "note_reacted":
                assert set(e["data"]) <= {"note_id", "reactions", "my_reactions"}, e
                assert not any(str(p) in str(e["data"]) for p in pids), e
    # Taking one off; taking off what is not on changes nothing.
    await c.ok("react", {"note_id": n1, "emoji": THUMBS, "on": False})
    nothing = await b.ok("react", {"note_id": n1, "emoji": HEART, "on": False})
    assert nothing["seq"] is None
    left = {THUMBS: 1, HEART: 1, IDEA: 1}
    await wall.wait_for(lambda: note_of(wall, n1).get("reactions") == left, what="one off")
    # Reactions in the cluster phase too; an edit of the note keeps each phone's own.
    await a.ok("edit_note", {"note_id": n1, "text": "Meer groen, graag"})
    await fac.ok("set_phase", {"phase": "cluster"})
    await b.ok("react", {"note_id": n1, "emoji": QUESTION, "on": True})
    await fresh_equal(server, [fac, wall, a, b, c])
    assert note_of(b, n1).get("my_reactions") == [THUMBS, QUESTION]
    await close_all(fac, wall, a, b, c)


async def test_react_refusals_change_nothing(server: ServerProcess, store: Store) -> None:
    w, fac, wall, (a, b) = await room_of(server, phones=2)
    n1 = await note(a, "Zichtbaar")
    hidden = await note(a, "Verborgen")
    gone = await note(a, "Weg")
    await fac.ok("moderate_note", {"note_id": hidden, "hidden": True})
    await a.ok("delete_note", {"note_id": gone})
    before = await store.load(w["id"])

    bad = await b.refused("react", {"note_id": n1, "emoji": "💩", "on": True})
    assert bad["code"] == "bad_reaction"
    assert bad["message"].startswith("Deze reactie kennen we niet") and THUMBS in bad["message"]
    for emoji in ("", None, "👍👍", "+1", 1):
        assert (await b.refused("react", {"note_id": n1, "emoji": emoji, "on": True}))[
            "code"] == "bad_reaction"
    assert (await b.refused("react", {"note_id": n1, "emoji": THUMBS, "on": "ja"}))[
        "code"] == "bad_args"
    for nid in (hidden, gone, "nope"):
        refused = await b.refused("react", {"note_id": nid, "emoji": THUMBS, "on": True})
        assert refused["code"] == "no_note"
        assert refused["message"] == "Dit briefje bestaat niet (meer)."
    # Its own hidden note: no either.
    assert (await a.refused("react", {"note_id": hidden, "emoji": THUMBS, "on": True}))[
        "code"] == "no_note"
    assert (await fac.refused("react", {"note_id": n1, "emoji": THUMBS, "on": True}))[
        "code"] == "not_allowed"
    assert (await wall.refused("react", {"note_id": n1, "emoji": THUMBS, "on": True}))[
        "code"] == "not_allowed"
    en = Client(server, name="en")
    await en.join(w["code"], token=b.token, lang="en")
    assert (await en.refused("react", {"note_id": n1, "emoji": "x", "on": True}))[
        "message"].startswith("We do not know this reaction")
    after = await store.load(w["id"])
    assert after["notes"] == before["notes"] and after["seq"] == before["seq"]

    # Not while voting, nor in the results; closed says closed.
    for phase in ("vote", "results"):
        await fac.ok("set_phase", {"phase": phase})
        refused = await b.refused("react", {"note_id": n1, "emoji": THUMBS, "on": True})
        assert refused["code"] == "wrong_phase"
    await fac.ok("set_phase", {"phase": "closed"})
    assert (await b.refused("react", {"note_id": n1, "emoji": THUMBS, "on": True}))[
        "code"] == "closed"
    final = await store.load(w["id"])
    assert final["notes"] == before["notes"]
    await close_all(fac, wall, a, b, en)


async def test_private_writing_hides_others_notes_from_reactions(server: ServerProcess) -> None:
    _w, fac, wall, (a, b) = await room_of(server, {"private_writing": True}, phones=2)
    n1 = await note(a, "Nog geheim")
    refused = await b.refused("react", {"note_id": n1, "emoji": THUMBS, "on": True})
    assert refused["code"] == "no_note"
    await a.ok("react", {"note_id": n1, "emoji": HEART, "on": True})   # its own: it sees it
    await fac.ok("set_phase", {"phase": "cluster"})
    await b.ok("react", {"note_id": n1, "emoji": THUMBS, "on": True})
    await fresh_equal(server, [fac, wall, a, b])
    assert note_of(wall, n1).get("reactions") == {THUMBS: 1, HEART: 1}
    await close_all(fac, wall, a, b)


async def test_hiding_a_note_takes_its_reactions_off(server: ServerProcess) -> None:
    _w, fac, wall, (a, b) = await room_of(server, phones=2)
    n1 = await note(a, "Even weg")
    await b.ok("react", {"note_id": n1, "emoji": THUMBS, "on": True})
    await fac.ok("moderate_note", {"note_id": n1, "hidden": True})
    await fac.ok("moderate_note", {"note_id": n1, "hidden": False})
    await fresh_equal(server, [fac, wall, a, b])
    assert note_of(b, n1).get("reactions") == {} and note_of(b, n1).get("my_reactions") == []
    await b.ok("react", {"note_id": n1, "emoji": THUMBS, "on": True})
    await wall.wait_for(lambda: note_of(wall, n1).get("reactions") == {THUMBS: 1}, what="again")
    await close_all(fac, wall, a, b)


async def test_removed_participant_takes_its_reactions_and_done(server: ServerProcess) -> None:
    _w, fac, wall, (a, b, c) = await room_of(server)
    n1 = await note(a, "Blijft")
    await b.ok("react", {"note_id": n1, "emoji": THUMBS, "on": True})
    await c.ok("react", {"note_id": n1, "emoji": THUMBS, "on": True})
    await c.ok("react", {"note_id": n1, "emoji": HEART, "on": True})
    await c.ok("set_done", {"done": True})
    await b.ok("set_done", {"done": True})
    await fac.ok("remove_participant", {"participant_id": c.pid})
    for s in (fac, wall, a, b):
        await s.wait_for(lambda s=s: note_of(s, n1).get("reactions") == {THUMBS: 1}
                         and done_of(s) == 1, what="c's reactions and done gone")
    await fresh_equal(server, [fac, wall, a, b])
    await close_all(fac, wall, a, b, c)


# ------------------------------------------------------------------------- the races


async def test_racing_taps_count_once_per_person_and_emoji(
    server: ServerProcess, store: Store
) -> None:
    """Many sockets of one participant tapping 👍 at once, and many participants at once:
    one per person and emoji, on every screen and in the store."""
    w, fac, wall, people = await room_of(server, phones=8)
    author = people[0]
    n1 = await note(author, "Iedereen tikt hier")
    tapper = people[1]
    sockets = [tapper, *[await tapper.twin() for _ in range(7)]]

    async def tap(s: Client, emoji: str, on: bool) -> None:
        await s.ok("react", {"note_id": n1, "emoji": emoji, "on": on})

    # One participant on eight sockets, each tapping 👍 and ❤️ on at once.
    await asyncio.gather(*(tap(s, e, True) for s in sockets for e in (THUMBS, HEART)))
    # Every participant (the eight, the tapper again among them) tapping 👍 at once.
    await asyncio.gather(*(tap(p, THUMBS, True) for p in people for _ in range(2)))
    want = {THUMBS: 8, HEART: 1}
    room = await store.load(w["id"])
    assert room["notes"][n1]["reactions"] == want
    for s in (fac, wall, *people, *sockets):
        await s.wait_for(lambda s=s: note_of(s, n1).get("reactions") == want, what="8 and 1")
    for s in sockets:
        await s.wait_for(lambda s=s: note_of(s, n1).get("my_reactions") == [THUMBS, HEART],
                         what="its own on every socket")
    # And all off at once, twice over: none left, never below zero.
    await asyncio.gather(*(tap(p, THUMBS, False) for p in people for _ in range(2)),
                         *(tap(s, HEART, False) for s in sockets[:4]))
    room = await store.load(w["id"])
    assert room["notes"][n1]["reactions"] == {}
    assert room["notes"][n1].get("reacted") in ({}, [], None)
    await fresh_equal(server, [fac, wall, *people])
    await close_all(fac, wall, *people, *sockets)

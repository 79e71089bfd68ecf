"""The quiet wall (setting wall_during_collect "count"): while collecting, the wall gets
how many notes each prompt has (`state.note_counts`, events cut to `{"note_counts"}`),
never a note's text, author or id, also not in a replay after `since` or a fresh
welcome; the phase change to sorting brings the notes, and phones are not affected.
"""

from __future__ import annotations

import orjson

from tests.integration.test_approval import said
from tests.support import Client, ServerProcess, close_all, create_workshop
from tests.support.fresh import fresh_equal


async def test_the_wall_counts_while_collecting_and_shows_the_notes_when_sorting(
    server: ServerProcess,
) -> None:
    w = await create_workshop(server.url, prompts=["Wat gaat goed?", "Wat kan beter?"],
                              settings={"wall_during_collect": "count"})
    fac, wall, phone, other = (Client(server, name=n)
                               for n in ("facilitator", "wall", "phone", "other"))
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    welcome = await wall.staff("projector", w["id"], w["view_key"])
    await phone.join(w["code"])
    await other.join(w["code"])
    assert welcome["state"]["notes"] == []
    assert welcome["state"]["note_counts"] == {"q1": 0, "q2": 0}

    first = await phone.ok("add_note", {"prompt_id": "q1", "text": "STIL eerste idee"})
    await wall.wait_seq(first["seq"])
    assert wall.events[-1]["kind"] == "note_added"
    assert wall.events[-1]["data"] == {"note_counts": {"q1": 1, "q2": 0}}
    # Away for a while: the replay after `since` holds counts only.
    await wall.drop()
    ids = [(await c.ok("add_note", {"prompt_id": p, "text": f"STIL {i}"}))["result"]["note_id"]
           for i, (c, p) in enumerate(((phone, "q2"), (other, "q2"), (other, "q1")))]
    await fac.ok("moderate_note", {"note_id": ids[2], "hidden": True})
    await phone.ok("edit_note", {"note_id": ids[0], "text": "STIL anders"})
    last = await fac.ok("add_paper_note", {"prompt_id": "q1", "text": "STIL papier",
                                           "perspective": None})
    await wall.resume()
    await wall.wait_seq(last["seq"])
    assert wall.state is not None and wall.state["notes"] == []
    assert wall.state["note_counts"] == {"q1": 2, "q2": 2}
    assert not said(wall, "STIL")
    for nid in [first["result"]["note_id"], *ids]:
        assert nid.encode() not in orjson.dumps(wall.frames)
    # Phones see the notes as they come.
    await other.wait_seq(last["seq"])
    assert len(other.state["notes"]) == 5  # type: ignore[index]
    wall2 = Client(server, name="wall2")
    await wall2.staff("projector", w["id"], w["view_key"])
    assert not said(wall2, "STIL")
    await fresh_equal(server, [wall, wall2])

    # On to sorting: the phase change carries the notes, the counts go.
    sort = await fac.ok("set_phase", {"phase": "cluster"})
    await wall.wait_seq(sort["seq"])
    change = wall.events[-1]
    assert change["kind"] == "phase_changed" and change["data"]["note_counts"] is None
    assert sorted(n["text"] for n in change["data"]["notes"]) == [
        "STIL 1", "STIL anders", "STIL eerste idee", "STIL papier"]
    assert "note_counts" not in wall.state  # type: ignore[operator]
    # Back to collecting: quiet again.
    back = await fac.ok("set_phase", {"phase": "collect"})
    await wall.wait_seq(back["seq"])
    assert wall.state["notes"] == []  # type: ignore[index]
    assert wall.state["note_counts"] == {"q1": 2, "q2": 2}  # type: ignore[index]
    # The setting changed while collecting: the notes come (live), and go (count).
    live = await fac.ok("update_settings", {"wall_during_collect": "live"})
    await wall.wait_seq(live["seq"])
    assert len(wall.state["notes"]) == 4  # type: ignore[index]
    assert "note_counts" not in wall.state  # type: ignore[operator]
    quiet = await fac.ok("update_settings", {"wall_during_collect": "count"})
    await wall.wait_seq(quiet["seq"])
    assert wall.state["notes"] == []  # type: ignore[index]
    await fresh_equal(server, [fac, wall, wall2, phone, other])
    await close_all(fac, wall, wall2, phone, other)


async def test_quiet_wall_and_approval_together(server: ServerProcess) -> None:
    """A waiting note is not counted, and the wall hears nothing of it but the counts."""
    w = await create_workshop(server.url, settings={"wall_during_collect": "count",
                                                    "approval_required": True})
    fac, wall, phone = (Client(server, name=n) for n in ("facilitator", "wall", "phone"))
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    await wall.staff("projector", w["id"], w["view_key"])
    await phone.join(w["code"])
    nid = (await phone.ok("add_note", {"prompt_id": "q1", "text": "WACHT"}))["result"]["note_id"]
    marker = await fac.ok("timer", {"action": "start", "seconds": 10})
    await wall.wait_seq(marker["seq"])
    assert wall.state["note_counts"] == {"q1": 0}  # type: ignore[index]
    ok = await fac.ok("approve_notes", {"note_ids": [nid]})
    await wall.wait_seq(ok["seq"])
    assert wall.state["note_counts"] == {"q1": 1}  # type: ignore[index]
    assert not said(wall, "WACHT") and nid.encode() not in orjson.dumps(wall.frames)
    for bad in ("loud", None, 1):
        error = await fac.refused("update_settings", {"wall_during_collect": bad})
        assert error["code"] == "bad_setting"
    await fresh_equal(server, [fac, wall, phone])
    await close_all(fac, wall, phone)

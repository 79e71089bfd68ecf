"""Paper notes (op add_paper_note): a note from a paper card, typed in by the facilitator.

An ordinary note with `source: "paper"`, no author, the writer's group where the
workshop has groups; the same bounds as a phone's note; never pending; counted in
clusters, votes, results, the exports and the report like any note.
"""

from __future__ import annotations

import csv
import io

from tests.support import Client, ServerProcess, close_all, create_workshop, http
from tests.support.fresh import fresh_equal

GROUPS = ["Bewoner", "Ondernemer"]


async def test_a_paper_note_is_a_note_for_everyone(server: ServerProcess) -> None:
    w = await create_workshop(server.url, prompts=["Wat gaat goed?", "Wat kan beter?"],
                              settings={"perspectives": GROUPS, "approval_required": True})
    fac, wall, phone = (Client(server, name=n) for n in ("facilitator", "wall", "phone"))
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    await wall.staff("projector", w["id"], w["view_key"])
    await phone.join(w["code"])
    ack = await fac.ok("add_paper_note", {"prompt_id": "q2", "text": "Meer bankjes",
                                          "perspective": "Bewoner"})
    nid = ack["result"]["note_id"]
    await wall.wait_seq(ack["seq"])
    await phone.wait_seq(ack["seq"])
    for c in (fac, wall, phone):
        note = next(n for n in c.state["notes"] if n["id"] == nid)  # type: ignore[index]
        assert note["source"] == "paper" and note["author"] is None, c.name
        assert note["pending"] is False, c.name  # never pending, approval or not
        assert note["prompt_id"] == "q2" and note["text"] == "Meer bankjes"
    # Its group: always for the facilitator, for the others only with show_provenance.
    assert next(n for n in fac.state["notes"])["perspective"] == "Bewoner"  # type: ignore[index]
    assert "perspective" not in wall.state["notes"][0]  # type: ignore[index]
    shown = await fac.ok("update_settings", {"show_provenance": True})
    await wall.wait_seq(shown["seq"])
    await phone.wait_seq(shown["seq"])
    assert wall.state["notes"][0]["perspective"] == "Bewoner"  # type: ignore[index]
    assert phone.state["notes"][0]["perspective"] == "Bewoner"  # type: ignore[index]

    # Counted like any note: an item to vote on, in the results.
    await fac.ok("add_paper_note", {"prompt_id": "q1", "text": "Het park", "perspective": None})
    await fac.ok("set_phase", {"phase": "vote"})
    await phone.ok("vote", {"item_id": nid, "delta": 1})
    await fac.ok("set_phase", {"phase": "results"})
    done = await fac.ok("timer", {"action": "reset"})
    await wall.wait_seq(done["seq"])
    assert wall.state["votes"]["ranking"] == [nid]  # type: ignore[index]

    # Exports and the report say where it came from.
    auth = {"Authorization": f"Bearer {w['facilitator_key']}"}
    data = (await http("GET", f"{server.url}/api/workshops/{w['id']}/export.json",
                       headers=auth)).json()
    assert {n["text"]: n["source"] for n in data["notes"]} == {
        "Meer bankjes": "paper", "Het park": "paper"}
    rows = list(csv.DictReader(io.StringIO((await http(
        "GET", f"{server.url}/api/workshops/{w['id']}/export.csv", headers=auth)).text)))
    assert {r["text"]: (r["source"], r["perspective"]) for r in rows} == {
        "Meer bankjes": ("paper", "Bewoner"), "Het park": ("paper", "")}
    md = (await http("GET", f"{server.url}/api/workshops/{w['id']}/export.md",
                     headers=auth)).text
    assert "Meer bankjes (papier)" in md
    report = (await http("GET", f"{server.url}/f/{w['id']}/report", headers=auth)).text
    assert report.count('data-testid="paper"') == 2
    await fresh_equal(server, [fac, wall, phone])
    await close_all(fac, wall, phone)


async def test_paper_notes_obey_the_rules_of_notes(server: ServerProcess) -> None:
    w = await create_workshop(server.url, settings={"perspectives": GROUPS,
                                                    "max_note_length": 20})
    fac, wall, phone = (Client(server, name=n) for n in ("facilitator", "wall", "phone"))
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    await wall.staff("projector", w["id"], w["view_key"])
    await phone.join(w["code"])

    async def refused(args: dict[str, object], code: str) -> None:
        card = {"prompt_id": "q1", "text": "Een kaartje", "perspective": None, **args}
        error = await fac.refused("add_paper_note", card)
        assert error["code"] == code, (args, error)
        assert error["message"], args

    await refused({"text": "   "}, "note_empty")
    await refused({"text": "\u200b\u200b"}, "note_empty")
    await refused({"text": "x" * 21}, "note_too_long")
    await refused({"perspective": "Wethouder"}, "bad_perspective")
    await refused({"prompt_id": "q9"}, "no_prompt")
    card = {"prompt_id": "q1", "text": "Een kaartje", "perspective": None}
    for c in (phone, wall):
        assert (await c.refused("add_paper_note", card))["code"] == "not_allowed"
    # Every phase but closed (`wrong_phase` there), collect or not.
    await fac.ok("set_phase", {"phase": "vote"})
    await fac.ok("add_paper_note", card)
    await fac.ok("set_phase", {"phase": "closed"})
    assert (await fac.refused("add_paper_note", card))["code"] == "wrong_phase"
    marker = await fac.ok("set_phase", {"phase": "results"})
    await wall.wait_seq(marker["seq"])
    assert [n["text"] for n in wall.state["notes"]] == ["Een kaartje"]  # type: ignore[index]
    await fresh_equal(server, [fac, wall, phone])
    await close_all(fac, wall, phone)

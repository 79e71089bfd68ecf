"""Hiding a note while people vote gives their dots back, and nothing ranks it after.

Contract, "Rules made explicit": hiding an item (`moderate_note` with `hidden: true`)
gives its dots back as deleting does (`removed_items` in the event); unhiding does not
bring them back. No state, export or report ranks a hidden item. Over the real server:
the voters' screens, their budget, the stored ballots, the JSON, CSV and Markdown
exports and the printable report.
"""

from __future__ import annotations

import csv
import io
import re

import orjson

from server import keys
from server.store import Store
from tests.support import (
    Client,
    ServerProcess,
    close_all,
    comparable,
    create_workshop,
    differences,
    http,
)

HIDDEN_TEXT = "Dit moet weg"


async def test_hiding_gives_dots_back_and_nothing_ranks_a_hidden_note(
        server: ServerProcess, store: Store) -> None:
    w = await create_workshop(server.url, settings={"votes_per_participant": 5,
                                                    "max_votes_per_item": 3})
    wid, fkey = w["id"], w["facilitator_key"]
    fac, wall, anna, bram = (Client(server, name=n) for n in ("fac", "wall", "anna", "bram"))
    await fac.staff("facilitator", wid, fkey)
    await wall.staff("projector", wid, w["view_key"])
    await anna.join(w["code"])
    await bram.join(w["code"])
    hide = (await anna.ok("add_note", {"prompt_id": "q1", "text": HIDDEN_TEXT}))["result"]
    keep = (await bram.ok("add_note", {"prompt_id": "q1", "text": "Meer bankjes"}))["result"]
    other = (await bram.ok("add_note", {"prompt_id": "q1", "text": "Een fietspad"}))["result"]
    hidden_id, keep_id, other_id = hide["note_id"], keep["note_id"], other["note_id"]
    await fac.ok("set_phase", {"phase": "vote"})
    for _ in range(3):
        await anna.ok("vote", {"item_id": hidden_id, "delta": 1})
    for _ in range(2):
        await anna.ok("vote", {"item_id": keep_id, "delta": 1})
        await bram.ok("vote", {"item_id": hidden_id, "delta": 1})
    await bram.ok("vote", {"item_id": keep_id, "delta": 1})
    assert (await anna.refused("vote", {"item_id": other_id, "delta": 1}))["code"] == \
        "no_votes_left"

    hidden = await fac.ok("moderate_note", {"note_id": hidden_id, "hidden": True})
    for screen in (fac, wall, anna, bram):
        await screen.wait_seq(hidden["seq"])
        moderated = [e for e in screen.events if e["kind"] == "note_moderated"][-1]
        assert moderated["data"]["removed_items"] == [hidden_id], screen.name
    assert anna.state is not None and bram.state is not None and fac.state is not None
    assert anna.state["votes"]["mine"] == {keep_id: 2}
    assert bram.state["votes"]["mine"] == {keep_id: 1}
    assert fac.state["votes"]["totals"] == {keep_id: 3}
    room = await store.load(wid)
    assert room is not None
    assert room["ballots"] == {anna.pid: {keep_id: 2}, bram.pid: {keep_id: 1}}
    assert room["totals"] == {keep_id: 3}

    # The freed dots go elsewhere; there is nothing to take back from the hidden note.
    for _ in range(3):
        await anna.ok("vote", {"item_id": other_id, "delta": 1})
    assert (await anna.refused("vote", {"item_id": hidden_id, "delta": -1}))["code"] == \
        "no_item"

    # Showing it again brings no dots back; hiding it again has none to give back.
    shown = await fac.ok("moderate_note", {"note_id": hidden_id, "hidden": False})
    await anna.wait_seq(shown["seq"])
    assert anna.state["votes"]["mine"] == {keep_id: 2, other_id: 3}
    again = await fac.ok("moderate_note", {"note_id": hidden_id, "hidden": True})
    await fac.wait_seq(again["seq"])
    assert [e for e in fac.events if e["kind"] == "note_moderated"][-1]["data"][
        "removed_items"] == []
    await bram.ok("vote", {"item_id": other_id, "delta": 1})
    done = await fac.ok("set_phase", {"phase": "results"})
    for screen in (fac, wall, anna, bram):
        await screen.wait_seq(done["seq"])
        assert screen.state is not None
        assert hidden_id not in screen.state["votes"]["ranking"], screen.name
        assert hidden_id not in screen.state["votes"]["totals"], screen.name
        fresh = Client(server, name=f"{screen.name}-fresh")
        await fresh.hello(**{**screen.hello_fields, "token": screen.token, "since": None})
        assert fresh.state is not None
        assert differences(comparable(screen.state), comparable(fresh.state)) == [], screen.name
        await close_all(fresh)
    assert fac.state["votes"]["ranking"] == [other_id, keep_id]

    auth = {"authorization": f"Bearer {fkey}"}
    base = f"{server.url}/api/workshops/{wid}"
    data = (await http("GET", f"{base}/export.json", headers=auth)).json()
    assert data["votes"]["ranking"] == [other_id, keep_id]
    assert hidden_id not in data["votes"]["totals"]
    assert hidden_id not in data["votes"]["common_ground"]
    rows = list(csv.DictReader(io.StringIO((await http("GET", f"{base}/export.csv",
                                                       headers=auth)).body.decode("utf-8-sig"))))
    assert {r["note_id"]: r["dots"] for r in rows} == {hidden_id: "0", keep_id: "3",
                                                        other_id: "4"}
    markdown = (await http("GET", f"{base}/export.md", headers=auth)).body.decode()
    assert hidden_id not in markdown and HIDDEN_TEXT not in markdown
    ranking = markdown.split("## Rangorde", 1)[1].split("##", 1)[0]
    assert re.findall(r"^\d+\. .*$", ranking, re.M) == ["1. Een fietspad (4)",
                                                         "2. Meer bankjes (3)"]
    page = (await http("GET", f"{server.url}/f/{wid}/report", headers=auth)).body.decode()
    table = page.split('data-testid="ranking"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", table) == [
        ("1", "Een fietspad"), ("2", "Meer bankjes")]
    assert HIDDEN_TEXT not in page.split('data-testid="ranking"', 1)[1].split("</section>")[0]
    await close_all(fac, wall, anna, bram)


async def test_exports_rank_no_hidden_note_even_with_dots_stored_on_it(
        server: ServerProcess, store: Store) -> None:
    """A workshop stored before hiding gave dots back: a hidden note with dots. The
    exports and the report still rank only visible items, numbered from 1."""
    w = await create_workshop(server.url)
    wid, fkey = w["id"], w["facilitator_key"]
    fac, anna = Client(server, name="fac"), Client(server, name="anna")
    await fac.staff("facilitator", wid, fkey)
    await anna.join(w["code"])
    hidden_id = (await anna.ok("add_note", {"prompt_id": "q1", "text": HIDDEN_TEXT}))[
        "result"]["note_id"]
    keep_id = (await anna.ok("add_note", {"prompt_id": "q1", "text": "Meer bankjes"}))[
        "result"]["note_id"]
    await fac.ok("set_phase", {"phase": "vote"})
    for item, n in ((hidden_id, 3), (keep_id, 1)):
        for _ in range(n):
            await anna.ok("vote", {"item_id": item, "delta": 1})
    await fac.ok("set_phase", {"phase": "results"})
    notes_key = keys.workshop_key(wid, "notes")
    note = orjson.loads(await store.redis.hget(notes_key, hidden_id))
    await store.redis.hset(notes_key, hidden_id, orjson.dumps({**note, "hidden": True}))

    auth = {"authorization": f"Bearer {fkey}"}
    base = f"{server.url}/api/workshops/{wid}"
    data = (await http("GET", f"{base}/export.json", headers=auth)).json()
    assert data["votes"]["ranking"] == [keep_id]
    assert data["votes"]["totals"] == {keep_id: 1}
    markdown = (await http("GET", f"{base}/export.md", headers=auth)).body.decode()
    assert hidden_id not in markdown
    ranking = markdown.split("## Rangorde", 1)[1].split("##", 1)[0]
    assert re.findall(r"^\d+\. .*$", ranking, re.M) == ["1. Meer bankjes (1)"]
    page = (await http("GET", f"{server.url}/f/{wid}/report", headers=auth)).body.decode()
    table = page.split('data-testid="ranking"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", table) == [("1", "Meer bankjes")]
    await close_all(fac, anna)

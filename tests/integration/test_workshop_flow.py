"""Acceptance 2: a whole workshop over the real server, with twenty phones.

Create over HTTP; twenty participants join over WebSockets and post notes on two
questions; the facilitator hides one, clusters, renames, opens the vote; everyone votes;
results; exports. At every step each screen's state (built from its welcome and the
events it got) is checked against the contract's visibility rules, and at the end against
a fresh welcome of the same screen.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from server import results
from server.store import Store
from tests.support import (
    Client,
    Refused,
    ServerProcess,
    close_all,
    comparable,
    create_workshop,
    differences,
    http,
)

GROUPS = ["Bewoner", "Ambtenaar", "Ondernemer"]
# Nine residents, nine civil servants, two entrepreneurs (a group too small to show).
PROFILE = ["Bewoner"] * 9 + ["Ambtenaar"] * 9 + ["Ondernemer"] * 2
FORMULA = '=HYPERLINK("http://evil.example/","klik hier")'
TO_HIDE = "Dit moet weg"


def notes_of(client: Client) -> dict[str, dict[str, Any]]:
    assert client.state is not None
    return {n["id"]: n for n in client.state["notes"]}


@pytest.fixture(params=["shared", "phone-window"])
def flow_server(request: pytest.FixtureRequest, redis_url: str, logs_dir: Path,
                server: ServerProcess) -> Iterator[ServerProcess]:
    """The shared server (twenty phones get every tick, as in any small room), and one
    where twenty phones make a big room: their batch window (0.2 s) is longer than a
    tick, so phones get their events later than the wall, coalesced."""
    if request.param == "shared":
        yield server
        return
    proc = ServerProcess(redis_url, logs_dir, name="phone-window",
                         env={"PHONE_WINDOW_PER_SOCKET": "0.01"})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


async def test_full_workshop(flow_server: ServerProcess) -> None:
    server = flow_server
    # --- create over HTTP
    created = await create_workshop(
        server.url, "Plein van de toekomst", ["Wat gaat goed?", "Wat kan beter?"],
        {"perspectives": GROUPS},
    )
    assert set(created) >= {"id", "code", "facilitator_key", "view_key", "urls"}
    assert len(created["code"]) == 6 and created["code"].isdigit()
    assert created["facilitator_key"] != created["view_key"]
    assert len(created["facilitator_key"]) >= 22 and len(created["view_key"]) >= 22
    assert set(created["urls"]) == {"facilitator", "projector", "join"}
    wid, code, fkey, vkey = (created[k] for k in ("id", "code", "facilitator_key", "view_key"))

    fac = Client(server, name="facilitator")
    wall = Client(server, name="projector")
    await fac.staff("facilitator", wid, fkey)
    await wall.staff("projector", wid, vkey)
    assert fac.you["role"] == "facilitator" and wall.you["role"] == "projector"
    assert wall.state is not None and wall.state["prompts"] == fac.state["prompts"]  # type: ignore[index]
    prompts = [p["id"] for p in wall.state["prompts"]]
    assert len(prompts) == 2

    # --- twenty phones join and set a profile
    phones = [Client(server, name=f"phone{i}") for i in range(20)]
    await asyncio.gather(*(p.join(code) for p in phones))
    assert len({p.pid for p in phones}) == 20
    assert len({p.token for p in phones}) == 20
    await asyncio.gather(*(
        p.ok("set_profile", {"name": f"Deelnemer {i}", "perspective": PROFILE[i]})
        for i, p in enumerate(phones)
    ))

    # --- everyone posts a note; two notes more: a formula and one to hide
    texts = {i: f"Idee {i}: meer groen op het plein" for i in range(20)}
    acks = await asyncio.gather(*(
        p.ok("add_note", {"prompt_id": prompts[i % 2], "text": texts[i]})
        for i, p in enumerate(phones)
    ))
    note_of = {i: a["result"]["note_id"] for i, a in enumerate(acks)}
    formula_id = (await phones[0].ok("add_note", {"prompt_id": prompts[0], "text": FORMULA}))[
        "result"]["note_id"]
    hide_id = (await phones[1].ok("add_note", {"prompt_id": prompts[1], "text": TO_HIDE}))[
        "result"]["note_id"]
    all_notes = {*note_of.values(), formula_id, hide_id}
    assert len(all_notes) == 22
    seq_notes = max(a["seq"] for a in acks)

    everyone = [fac, wall, *phones]
    await asyncio.gather(*(c.wait_for(lambda c=c: set(notes_of(c)) >= all_notes,
                                      what="all notes") for c in everyone))
    for i, p in enumerate(phones):
        notes = notes_of(p)
        assert set(notes) == all_notes
        assert notes[note_of[i]]["author"]["participant_id"] == p.pid   # own: with author
        others = [n for nid, n in notes.items() if n["author"] is not None and nid not in
                  {note_of[i], formula_id if i == 0 else "", hide_id if i == 1 else ""}]
        assert others == []                                             # anonymous
    assert all(n["author"] is None for n in notes_of(wall).values())
    assert all(n["author"] is not None for n in notes_of(fac).values())
    assert notes_of(fac)[note_of[3]]["author"]["name"] == "Deelnemer 3"
    assert {n["prompt_id"] for n in notes_of(wall).values()} == set(prompts)
    assert seq_notes > 0

    # --- a timer, then the facilitator hides one note
    await fac.ok("timer", {"action": "start", "seconds": 300})
    await fac.ok("timer", {"action": "pause"})
    hide = await fac.ok("moderate_note", {"note_id": hide_id, "hidden": True})
    await asyncio.gather(*(c.wait_seq(hide["seq"]) for c in everyone))
    assert hide_id not in notes_of(wall)
    assert notes_of(fac)[hide_id]["hidden"] is True
    assert notes_of(phones[1])[hide_id]["hidden"] is True   # its author still sees it
    for p in phones[2:]:
        assert hide_id not in notes_of(p)
    for c in everyone:
        timer = c.state["workshop"]["timer"]  # type: ignore[index]
        assert timer["running"] is False and 0 < timer["remaining_ms"] <= 300_000

    # --- cluster phase: two clusters, one renamed; loose notes stay items
    await fac.ok("set_phase", {"phase": "cluster"})
    assert (await phones[2].refused("add_note", {"prompt_id": prompts[0], "text": "laat"}))[
        "code"] == "wrong_phase"
    green = [note_of[i] for i in range(0, 6)]
    traffic = [note_of[i] for i in range(6, 12)]
    c_green = (await fac.ok("cluster", {"note_ids": green, "cluster_id": None,
                                        "title": "Groen"}))["result"]["cluster_id"]
    c_traffic = (await fac.ok("cluster", {"note_ids": traffic[:3], "cluster_id": None}))[
        "result"]["cluster_id"]
    await fac.ok("cluster", {"note_ids": traffic[3:], "cluster_id": c_traffic})
    renamed = await fac.ok("rename_cluster", {"cluster_id": c_traffic, "title": "Verkeer"})
    await asyncio.gather(*(c.wait_seq(renamed["seq"]) for c in everyone))
    for c in everyone:
        clusters = {cl["id"]: cl["title"] for cl in c.state["clusters"]}  # type: ignore[index]
        assert clusters == {c_green: "Groen", c_traffic: "Verkeer"}
        notes = notes_of(c)
        assert {nid for nid, n in notes.items() if n["cluster_id"] == c_green} == set(green)
        assert {nid for nid, n in notes.items() if n["cluster_id"] == c_traffic} == set(traffic)

    # --- vote phase
    await fac.ok("set_phase", {"phase": "vote"})
    loose = [note_of[i] for i in range(12, 20)]
    # Residents back green, civil servants traffic; both put a dot on the first loose note.
    ballots: dict[str, dict[str, int]] = {}
    plan: dict[int, list[str]] = {}
    for i in range(20):
        group = PROFILE[i]
        if group == "Bewoner":
            plan[i] = [c_green, c_green, c_green, loose[0], loose[1]]
        elif group == "Ambtenaar":
            plan[i] = [c_traffic, c_traffic, c_traffic, loose[0], c_green]
        else:
            plan[i] = [loose[2]] * 3

    async def cast(i: int) -> None:
        for item in plan[i]:
            ack = await phones[i].ok("vote", {"item_id": item, "delta": 1})
            ballots.setdefault(phones[i].pid or "", {})
            ballots[phones[i].pid or ""][item] = ballots[phones[i].pid or ""].get(item, 0) + 1
            assert ack["result"]["mine"] == ballots[phones[i].pid or ""]

    await asyncio.gather(*(cast(i) for i in range(20)))
    # Limits and items, over the wire.
    assert (await phones[0].refused("vote", {"item_id": loose[3], "delta": 1}))["code"] == \
        "no_votes_left"
    assert (await phones[18].refused("vote", {"item_id": loose[2], "delta": 1}))["code"] == \
        "item_full"
    assert (await phones[18].refused("vote", {"item_id": loose[3], "delta": -1}))["code"] == \
        "no_vote_to_remove"
    assert (await phones[19].refused("vote", {"item_id": hide_id, "delta": 1}))["code"] == \
        "no_item"
    assert (await phones[19].refused("vote", {"item_id": green[0], "delta": 1}))["code"] == \
        "no_item"
    last = await phones[19].ok("vote", {"item_id": loose[2], "delta": -1})
    ballots[phones[19].pid or ""] = {loose[2]: 2}
    assert last["result"]["mine"] == {loose[2]: 2}
    await asyncio.gather(*(c.wait_seq(last["seq"]) for c in [fac, phones[19]]))

    expected_totals: dict[str, int] = {}
    for ballot in ballots.values():
        for item, n in ballot.items():
            expected_totals[item] = expected_totals.get(item, 0) + n
    await fac.wait_for(lambda: fac.state["votes"]["totals"] == expected_totals,  # type: ignore[index]
                       what="facilitator totals")
    await wall.wait_for(lambda: wall.state["votes"]["voters"] == 20,  # type: ignore[index]
                        what="wall voters")
    # During the vote: the wall and phones see progress, never totals.
    for c in [wall, *phones]:
        votes = c.state["votes"]  # type: ignore[index]
        assert votes["totals"] == {} and votes["ranking"] == [] and votes["by_perspective"] == {}
    # Each phone's own dots reach it with its next batch (up to its window later than the
    # wall's, over its own socket): wait for each, not only for the last voter.
    for p in phones:
        await p.wait_for(lambda p=p: p.state["votes"]["mine"] == ballots[p.pid or ""],  # type: ignore[index]
                         what="own dots")
        assert p.state["votes"]["mine"] == ballots[p.pid or ""]  # type: ignore[index]

    # --- results
    res = await fac.ok("set_phase", {"phase": "results"})
    await asyncio.gather(*(c.wait_seq(res["seq"]) for c in everyone))
    profiles = {p.pid: {"participant_id": p.pid, "perspective": PROFILE[i]}
                for i, p in enumerate(phones)}
    expected = results.summary(ballots, profiles, GROUPS)
    assert expected["totals"] == expected_totals
    for c in everyone:
        votes = c.state["votes"]  # type: ignore[index]
        for key in ("totals", "voters", "by_perspective", "ranking", "common_ground", "divided"):
            assert votes[key] == expected[key], (c.name, key)
    wall_votes = wall.state["votes"]  # type: ignore[index]
    assert "Ondernemer" not in wall_votes["by_perspective"]          # 2 people: never alone
    small = [ballots[p.pid or ""] for i, p in enumerate(phones) if PROFILE[i] == "Ondernemer"]
    assert wall_votes["by_perspective"]["other"] == {loose[2]: sum(b[loose[2]] for b in small)}
    assert wall_votes["ranking"][0] == c_green
    assert sum(wall_votes["totals"].values()) == sum(sum(b.values()) for b in ballots.values())

    # --- every screen's state equals a fresh welcome of the same screen
    fresh_fac = Client(server, name="fresh-facilitator")
    fresh_wall = Client(server, name="fresh-projector")
    await fresh_fac.staff("facilitator", wid, fkey)
    await fresh_wall.staff("projector", wid, vkey)
    fresh_phones = [Client(server, name=f"fresh{i}") for i in range(20)]
    await asyncio.gather(*(f.join(code, token=p.token) for f, p in zip(fresh_phones, phones,
                                                                       strict=True)))
    assert [f.pid for f in fresh_phones] == [p.pid for p in phones]
    for old, new in [(fac, fresh_fac), (wall, fresh_wall), *zip(phones, fresh_phones,
                                                                strict=True)]:
        assert comparable(old.state) == comparable(new.state), old.name  # type: ignore[arg-type]
        assert old.violations == [], old.name
    assert hide_id in notes_of(fresh_fac) and hide_id not in notes_of(fresh_wall)

    # --- exports, fetched with the facilitator key
    base = f"{server.url}/api/workshops/{wid}"
    as_json = await http("GET", f"{base}/export.json", headers={"authorization": f"Bearer {fkey}"})
    assert as_json.status == 200, as_json
    data = orjson.loads(as_json.body)
    assert {n["id"] for n in data["notes"]} == all_notes
    assert all(n["author"] is None for n in data["notes"])   # an anonymous workshop
    assert data["votes"]["totals"] == expected_totals
    assert data["votes"]["ranking"] == expected["ranking"]
    assert data["participants"]["count"] == 20

    as_csv = await http("GET", f"{base}/export.csv?key={fkey}")
    assert as_csv.status == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    texts_in_csv = {r["note_id"]: r["text"] for r in rows}
    assert set(texts_in_csv) == all_notes
    assert texts_in_csv[formula_id] == "'" + FORMULA
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts_in_csv.values())
    dots = {r["note_id"]: r["dots"] for r in rows}
    assert dots[loose[0]] == str(expected_totals[loose[0]])

    as_md = await http("GET", f"{base}/export.md?key={fkey}")
    assert as_md.status == 200
    assert "Groen" in as_md.text and "Verkeer" in as_md.text
    assert TO_HIDE not in as_md.text
    assert "Plein van de toekomst" in as_md.text

    for url, headers in [(f"{base}/export.json", {}),
                         (f"{base}/export.json?key={vkey}", {}),
                         (f"{base}/export.csv", {"authorization": "Bearer nope"})]:
        refused = await http("GET", url, headers=headers)
        assert refused.status == 401, (url, refused)
        assert refused.json()["error"]["code"] == "wrong_key"

    await close_all(*everyone, fresh_fac, fresh_wall, *fresh_phones)


async def checkpoint(fac: Client, screens: list[Client], label: str) -> None:
    """Every screen's event-built state equals a fresh welcome of the same screen."""
    # An event every screen gets, in every phase, that changes nothing.
    language = fac.state["workshop"]["settings"]["language"]  # type: ignore[index]
    mark = await fac.ok("update_settings", {"language": language})
    await asyncio.gather(*(c.wait_seq(mark["seq"]) for c in screens))
    twins = await asyncio.gather(*(c.twin() for c in screens))
    try:
        for c, t in zip(screens, twins, strict=True):
            live, fresh = comparable(c.state), comparable(t.state)  # type: ignore[arg-type]
            assert live == fresh, (label, c.name, differences(live, fresh)[:10])
            assert c.violations == [], f"{label}: {c.name}"
    finally:
        await close_all(*twins)


async def test_visibility_settings_over_a_workshop(server: ServerProcess) -> None:
    """private_writing, named authors, live votes, provenance; hide and unhide; refunds."""
    created = await create_workshop(server.url, "Zichtbaarheid", ["Wat wil je?"], {
        "perspectives": ["Bewoner", "Ambtenaar"], "private_writing": True,
        "anonymous": False, "show_live_votes": True, "show_provenance": True,
    })
    wid, code = created["id"], created["code"]
    fac = Client(server, name="facilitator")
    wall = Client(server, name="projector")
    await fac.staff("facilitator", wid, created["facilitator_key"])
    # The facilitator key opens the wall too.
    await wall.staff("projector", wid, created["facilitator_key"])
    assert wall.you["role"] == "projector"
    phones = [Client(server, name=f"phone{i}") for i in range(6)]
    await asyncio.gather(*(p.join(code) for p in phones))
    groups = ["Bewoner"] * 4 + ["Ambtenaar"] * 2
    await asyncio.gather(*(p.ok("set_profile", {"name": f"P{i}", "perspective": groups[i]})
                           for i, p in enumerate(phones)))
    screens = [fac, wall, *phones]
    notes = [(await p.ok("add_note", {"prompt_id": "q1", "text": f"wens {i}"}))["result"][
        "note_id"] for i, p in enumerate(phones)]
    await checkpoint(fac, screens, "collect, private")
    for i, p in enumerate(phones):
        assert [n["id"] for n in p.state["notes"]] == [notes[i]]  # type: ignore[index]
    assert {n["id"] for n in wall.state["notes"]} == set(notes)  # type: ignore[index]
    wall_notes = {n["id"]: n for n in wall.state["notes"]}  # type: ignore[index]
    assert wall_notes[notes[0]]["author"]["name"] == "P0"        # not anonymous
    assert wall_notes[notes[0]]["perspective"] == "Bewoner"      # 4 people: shown
    assert wall_notes[notes[4]]["perspective"] == "other"        # 2 people: never alone

    await fac.ok("update_settings", {"anonymous": True})
    await checkpoint(fac, screens, "anonymous on")
    assert all(n["author"] is None for n in wall.state["notes"])  # type: ignore[index]
    await fac.ok("update_settings", {"private_writing": False})
    await checkpoint(fac, screens, "private off")
    assert all(len(p.state["notes"]) == 6 for p in phones)  # type: ignore[index]
    await fac.ok("update_settings", {"private_writing": True, "anonymous": False})
    await checkpoint(fac, screens, "private on again")
    assert all(len(p.state["notes"]) == 1 for p in phones)  # type: ignore[index]

    await fac.ok("set_phase", {"phase": "cluster"})
    await checkpoint(fac, screens, "cluster: every note revealed")
    assert all(len(p.state["notes"]) == 6 for p in phones)  # type: ignore[index]
    await fac.ok("moderate_note", {"note_id": notes[5], "hidden": True})
    await checkpoint(fac, screens, "hidden")
    assert all(len(p.state["notes"]) == 5 for p in phones[:5])  # type: ignore[index]
    await fac.ok("moderate_note", {"note_id": notes[5], "hidden": False})
    await fac.ok("edit_note", {"note_id": notes[5], "text": "wens 5, netjes"})
    await checkpoint(fac, screens, "shown again, edited")
    assert {n["text"] for n in phones[0].state["notes"]} >= {"wens 5, netjes"}  # type: ignore[index]
    c1 = (await fac.ok("cluster", {"note_ids": notes[:2], "cluster_id": None}))["result"][
        "cluster_id"]
    c2 = (await fac.ok("cluster", {"note_ids": notes[2:4], "cluster_id": None,
                                   "title": "Twee"}))["result"]["cluster_id"]
    await fac.ok("uncluster", {"note_ids": [notes[3]]})
    await checkpoint(fac, screens, "clustered")

    await fac.ok("set_phase", {"phase": "vote"})
    for i, p in enumerate(phones):
        await p.ok("vote", {"item_id": c1, "delta": 1})
        await p.ok("vote", {"item_id": notes[3] if i % 2 else c2, "delta": 1})
        await p.ok("vote", {"item_id": notes[4], "delta": 1})
    await checkpoint(fac, screens, "live votes")
    assert phones[0].state["votes"]["totals"] == {c1: 6, c2: 3, notes[3]: 3, notes[4]: 6}  # type: ignore[index]
    assert wall.state["votes"]["totals"] == phones[0].state["votes"]["totals"]  # type: ignore[index]

    # Refunds: a voted note joins a cluster, a voted cluster is deleted, a voted note too.
    await fac.ok("cluster", {"note_ids": [notes[3]], "cluster_id": c1})
    await fac.ok("delete_cluster", {"cluster_id": c2})
    await fac.ok("delete_note", {"note_id": notes[4]})
    await checkpoint(fac, screens, "refunds")
    assert wall.state["votes"]["totals"] == {c1: 6}  # type: ignore[index]
    for p in phones:
        assert p.state["votes"]["mine"] == {c1: 1}  # type: ignore[index]
    await phones[0].ok("vote", {"item_id": c1, "delta": 1})   # the dots came back
    await phones[0].ok("vote", {"item_id": c1, "delta": 1})

    await fac.ok("set_phase", {"phase": "results"})
    await checkpoint(fac, screens, "results")
    await fac.ok("set_phase", {"phase": "closed"})
    await checkpoint(fac, screens, "closed")
    assert (await phones[1].refused("delete_note", {"note_id": notes[1]}))["code"] == "closed"
    assert (await fac.refused("cluster", {"note_ids": [notes[0]], "cluster_id": None}))[
        "code"] == "closed"
    late = Client(server, name="late")
    try:
        await late.join(code)
        raise AssertionError("a closed workshop took a new participant")
    except Exception as exc:  # the contract's 4404: no open workshop with this code
        assert getattr(exc, "code", None) == 4404, exc
    await close_all(*screens, late)


@pytest.mark.parametrize("what", ["wall author name", "provenance label", "facilitator list"])
async def test_profile_change_after_posting_reaches_every_screen(server: ServerProcess,
                                                                 what: str) -> None:
    created = await create_workshop(server.url, "Namen", ["Wat wil je?"], {
        "perspectives": ["Bewoner", "Ambtenaar"], "anonymous": False, "show_provenance": True,
    })
    fac = Client(server, name="facilitator")
    wall = Client(server, name="projector")
    await fac.staff("facilitator", created["id"], created["facilitator_key"])
    await wall.staff("projector", created["id"], created["view_key"])
    phones = [Client(server, name=f"phone{i}") for i in range(3)]
    await asyncio.gather(*(p.join(created["code"]) for p in phones))
    note = (await phones[0].ok("add_note", {"prompt_id": "q1", "text": "wens"}))["result"][
        "note_id"]
    try:
        # One by one: the group passes 3 people with the last one.
        for i, p in enumerate(phones):
            await p.ok("set_profile", {"name": f"P{i}", "perspective": "Bewoner"})
        mark = await fac.ok("update_settings", {"language": "nl"})
        await asyncio.gather(fac.wait_seq(mark["seq"]), wall.wait_seq(mark["seq"]))
        fresh_fac, fresh_wall = await fac.twin(), await wall.twin()
        await close_all(fresh_fac, fresh_wall)
        if what == "wall author name":
            live = {n["id"]: n for n in wall.state["notes"]}[note]["author"]  # type: ignore[index]
            assert live == {n["id"]: n for n in fresh_wall.state["notes"]}[note]["author"]  # type: ignore[index]
        elif what == "provenance label":
            live = {n["id"]: n for n in wall.state["notes"]}[note]["perspective"]  # type: ignore[index]
            assert live == "Bewoner"
        else:
            listed = sorted(fac.state["participants"]["list"],  # type: ignore[index]
                            key=lambda p: p["participant_id"])
            assert listed == sorted(fresh_fac.state["participants"]["list"],  # type: ignore[index]
                                    key=lambda p: p["participant_id"])
    finally:
        await close_all(fac, wall, *phones)


async def test_erase_removes_every_trace(server: ServerProcess, store: Store) -> None:
    created = await create_workshop(server.url, "Weg ermee")
    wid, fkey = created["id"], created["facilitator_key"]
    fac = Client(server, name="facilitator")
    await fac.staff("facilitator", wid, fkey)
    phone = Client(server, name="phone")
    await phone.join(created["code"])
    await phone.ok("add_note", {"prompt_id": "q1", "text": "persoonlijk"})

    wrong = await http("DELETE", f"{server.url}/api/workshops/{wid}",
                       headers={"authorization": f"Bearer {created['view_key']}"})
    assert wrong.status == 401
    assert await store.load(wid) is not None

    gone = await http("DELETE", f"{server.url}/api/workshops/{wid}",
                      headers={"authorization": f"Bearer {fkey}"})
    assert gone.status == 204
    assert await fac.wait_closed() == 4410
    assert await phone.wait_closed() == 4410
    assert await store.load(wid) is None
    assert await store.workshop_for_code(created["code"]) is None
    assert [k async for k in store.redis.scan_iter(match=f"ws:{{{wid}}}:*")] == []
    again = Client(server, name="again")
    with pytest.raises(Refused) as refused:
        await again.join(created["code"], token=phone.token)
    assert refused.value.code == 4404

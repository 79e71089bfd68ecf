"""A session plan over HTTP (issue 10): the templates to start from, a session made from
one, bad plans refused with a clear error and nothing stored, the plan saved as a file
(without notes or names) that starts a new session, and the results of every activity in
the exports and the report. A workshop stored before plans existed keeps working."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import orjson
import pytest

from server import keys
from server.store import Store
from tests.integration.test_session_plan import PLAN, create_plan, move, screens, state
from tests.support import Client, ServerProcess, close_all, create_workshop, http
from tests.support.fresh import fresh_equal


async def stored_workshops(store: Store) -> int:
    found = 0
    async for _ in store.redis.scan_iter(match="ws:{*}:meta", count=1000):
        found += 1
    return found


async def test_templates_are_listed_in_the_visitors_language(server: ServerProcess) -> None:
    nl = (await http("GET", f"{server.url}/api/templates")).json()["templates"]
    en = (await http("GET", f"{server.url}/api/templates?lang=en")).json()["templates"]
    ids = {"droom-durf-doe", "1-2-4-alle", "start-stop-doorgaan", "kansen-zorgen",
           "wijkavond"}
    assert ids <= {t["id"] for t in nl} and ids <= {t["id"] for t in en}
    wijk_nl = next(t for t in nl if t["id"] == "wijkavond")
    wijk_en = next(t for t in en if t["id"] == "wijkavond")
    assert (wijk_nl["language"], wijk_en["language"]) == ("nl", "en")
    assert [a["title"] for a in wijk_nl["activities"]] == ["Welkom", "Ideeën", "Ordenen",
                                                           "Stemmen", "Afsluiting"]
    assert len(wijk_en["activities"]) == 5 and wijk_en["title"] == "Neighbourhood evening"
    accepted = await http("GET", f"{server.url}/api/templates",
                          headers={"accept-language": "en-GB,en;q=0.9"})
    assert accepted.json()["templates"][0]["language"] == "en"


async def test_a_session_from_a_template(server: ServerProcess) -> None:
    resp = await http("POST", f"{server.url}/api/workshops?lang=en",
                      {"template": "1-2-4-alle", "title": "Ons plan"})
    assert resp.status == 201, resp
    w = resp.json()
    fac = Client(server, name="fac")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    workshop = state(fac)["workshop"]
    assert workshop["title"] == "Ons plan" and workshop["settings"]["language"] == "en"
    assert workshop["activities"][0]["title"] == "1: alone (1 minute)"
    assert len(workshop["activities"]) == 4
    assert workshop["settings"]["timer_seconds"] == 60   # the round's suggested time
    await move(fac, [fac], workshop["activities"][2]["id"])
    assert state(fac)["workshop"]["settings"]["timer_seconds"] == 240
    await close_all(fac)


def too_many() -> dict[str, Any]:
    return {"title": "Te veel", "activities": [{"title": f"A{i}", "prompts": ["?"]}
                                               for i in range(13)]}


@pytest.mark.parametrize(("body", "code", "status"), [
    (too_many(), "too_many_activities", 400),
    ({"title": "T", "activities": [{"title": "A", "prompts": ["?"]},
                                   {"title": "Zonder vragen", "prompts": []}]}, "no_prompts", 400),
    ({"title": "T", "activities": [{"title": "Leeg", "prompts": [" "]}]}, "no_prompts", 400),
    ({"title": "T", "activities": [{"title": "Geen lijst"}]}, "no_prompts", 400),
    ({"template": "bestaat-niet"}, "unknown_template", 400),
    ({"template": "../rules"}, "unknown_template", 400),
    ({**PLAN, "format": "iets-anders", "version": 1}, "bad_plan", 400),
    ({**PLAN, "format": "samenspel-plan", "version": 2}, "bad_plan", 400),
    ({**PLAN, "format": "samenspel-plan"}, "bad_plan", 400),
    ({"title": "T", "activities": "één"}, "bad_plan", 400),
    ({"title": "T", "activities": []}, "bad_plan", 400),
    ({"title": "T", "activities": ["Welkom"]}, "bad_plan", 400),
    ({"title": "T", "activities": [{"title": "A", "prompts": ["?"], "settings": []}]},
     "bad_plan", 400),
    ({"title": "T", "activities": [{"title": "A", "prompts": ["?"],
                                    "settings": {"timer_seconds": -5}}]}, "bad_setting", 400),
    ({"title": "Groot", "activities": [{"title": "A" * 100, "prompts": ["x" * 190] * 6}] * 12,
      "padding": "x" * 40_000}, "frame_too_large", 413),
])
async def test_bad_plans_are_refused_and_nothing_is_stored(
    server: ServerProcess, store: Store, body: dict[str, Any], code: str, status: int
) -> None:
    before = await stored_workshops(store)
    messages = []
    for lang in ("nl", "en"):
        resp = await http("POST", f"{server.url}/api/workshops?lang={lang}", body)
        assert resp.status == status, resp
        error = resp.json()["error"]
        assert error["code"] == code
        messages.append(error["message"])
    assert messages[0] != messages[1] and all(messages)
    assert await stored_workshops(store) == before


async def test_the_error_names_the_problem_in_the_users_language(server: ServerProcess) -> None:
    nl = (await http("POST", f"{server.url}/api/workshops", too_many())).json()["error"]
    en = (await http("POST", f"{server.url}/api/workshops?lang=en", too_many())).json()["error"]
    assert "12" in nl["message"] and "onderdelen" in nl["message"]
    assert "12" in en["message"] and "activities" in en["message"]


async def test_the_plan_as_a_file_without_notes_or_names_starts_a_new_session(
    server: ServerProcess,
) -> None:
    w = await create_plan(server.url)
    s = await screens(server, w)
    fac, alice = s["fac"], s["alice"]
    await alice.ok("set_profile", {"name": "Alice Geheim"})
    await alice.ok("add_note", {"prompt_id": "q1", "text": "Een geheim idee"})
    await fac.ok("add_activity", {"title": "Erbij", "prompts": ["Nog iets?"], "after": None})
    await fac.ok("move_activity", {"activity_id": "a3", "to": 0})
    resp = await http("GET", f"{server.url}/f/{w['id']}/plan.json",
                      headers={"authorization": f"Bearer {w['facilitator_key']}"})
    assert resp.status == 200, resp
    assert resp.headers["content-disposition"].startswith("attachment")
    text = resp.text
    for secret in ("Een geheim idee", "Alice Geheim", w["id"], w["code"], w["facilitator_key"],
                   w["view_key"], w["join_secret"], '"a1"', "participant_id"):
        assert secret not in text, secret
    plan = orjson.loads(text)
    assert plan["format"] == "samenspel-plan" and plan["version"] == 1
    assert [a["title"] for a in plan["activities"]] == ["Afsluiting", "Welkom", "Ideeën",
                                                        "Erbij"]
    assert plan["activities"][2]["settings"]["votes_per_participant"] == 2
    assert plan["activities"][0]["settings"]["timer_seconds"] == 180
    assert plan["settings"]["perspectives"] == ["Bewoner", "Ondernemer"]
    wrong = await http("GET", f"{server.url}/f/{w['id']}/plan.json",
                       headers={"authorization": f"Bearer {w['view_key']}"})
    assert wrong.status == 401

    again = await create_plan(server.url, plan)
    assert again["code"] != w["code"]
    fac2 = Client(server, name="fac2")
    await fac2.staff("facilitator", again["id"], again["facilitator_key"])
    workshop = state(fac2)["workshop"]
    assert [a["title"] for a in workshop["activities"]] == ["Afsluiting", "Welkom", "Ideeën",
                                                            "Erbij"]
    assert state(fac2)["notes"] == [] and state(fac2)["participants"]["count"] == 0
    assert [p["prompts"] for p in workshop["plan"]] == [a["prompts"] for a in plan["activities"]]
    await close_all(fac2, *s.values())


async def test_exports_and_report_cover_every_activity_in_order(
    server: ServerProcess, store: Store
) -> None:
    w = await create_plan(server.url)
    s = await screens(server, w)
    fac, alice, bob = s["fac"], s["alice"], s["bob"]
    everyone = list(s.values())
    await alice.ok("add_note", {"prompt_id": "q1", "text": "Het park bij de kerk"})
    await move(fac, everyone, "a2")
    idea = (await bob.ok("add_note", {"prompt_id": "q2", "text": "Een moestuin"}))["result"][
        "note_id"]
    await fac.ok("set_phase", {"phase": "vote"})
    await alice.ok("vote", {"item_id": idea, "delta": 1})
    await fac.ok("set_phase", {"phase": "results"})
    await move(fac, everyone, "a3")
    await alice.ok("add_note", {"prompt_id": "q1", "text": "Goede avond"})
    await asyncio.sleep(0)
    auth = {"authorization": f"Bearer {w['facilitator_key']}"}
    base = f"{server.url}/api/workshops/{w['id']}/export"

    data = (await http("GET", f"{base}.json", headers=auth)).json()
    assert [(a["id"], a["title"]) for a in data["activities"]] == [
        ("a1", "Welkom"), ("a2", "Ideeën"), ("a3", "Afsluiting")]
    assert [[n["text"] for n in a["notes"]] for a in data["activities"]] == [
        ["Het park bij de kerk"], ["Een moestuin"], ["Goede avond"]]
    second = data["activities"][1]
    assert second["votes"]["totals"] == {idea: 1} and second["votes"]["ranking"] == [idea]
    assert second["votes"]["common_ground"] == [idea]
    assert [p["text"] for p in second["prompts"]] == ["Wat kan beter?", "Wat wil je zelf doen?"]
    # Version 1's top-level fields: the current activity's.
    assert [n["text"] for n in data["notes"]] == ["Goede avond"]
    assert data["workshop"]["activity_id"] == "a3"

    markdown = (await http("GET", f"{base}.md", headers=auth)).text
    spots = [markdown.index(f"## Onderdeel {i}: {t}") for i, t in
             enumerate(["Welkom", "Ideeën", "Afsluiting"], 1)]
    assert spots == sorted(spots)
    for text in ("Het park bij de kerk", "Een moestuin", "Goede avond"):
        assert text in markdown
    ideas = markdown[spots[1]:spots[2]]
    assert "### Gedeelde grond\n1. Een moestuin (1)" in ideas

    rows = list(csv.reader(io.StringIO((await http("GET", f"{base}.csv", headers=auth))
                                       .text.lstrip("\ufeff"))))
    assert rows[0][-1] == "activity"
    assert [(r[2], r[-1]) for r in rows[1:]] == [("Het park bij de kerk", "Welkom"),
                                                 ("Een moestuin", "Ideeën"),
                                                 ("Goede avond", "Afsluiting")]

    report = (await http("GET", f"{server.url}/f/{w['id']}/report", headers=auth)).text
    spots = [report.index(f"Onderdeel {i}: {t}") for i, t in
             enumerate(["Welkom", "Ideeën", "Afsluiting"], 1)]
    assert spots == sorted(spots)
    assert report.count('data-testid="activity"') == 3
    section = report[spots[1]:spots[2]]
    assert "Gedeelde grond" in section and "Een moestuin" in section
    assert 'data-testid="common-ground"' in section
    assert "Het park bij de kerk" in report[spots[0]:spots[1]]
    await close_all(*everyone)

    # Erasing the session erases every activity (the parked ones' key too).
    assert (await http("DELETE", f"{server.url}/api/workshops/{w['id']}", headers=auth)
            ).status == 204
    left = [k async for k in store.redis.scan_iter(match=f"ws:{{{w['id']}}}*", count=1000)]
    assert left == []


async def test_a_one_activity_workshop_exports_as_before(server: ServerProcess) -> None:
    w = await create_workshop(server.url, prompts=["Wat gaat goed?"])
    auth = {"authorization": f"Bearer {w['facilitator_key']}"}
    base = f"{server.url}/api/workshops/{w['id']}/export"
    markdown = (await http("GET", f"{base}.md", headers=auth)).text
    assert "Onderdeel" not in markdown and "\n## Vragen\n- Wat gaat goed?\n" in markdown
    header = (await http("GET", f"{base}.csv", headers=auth)).text.splitlines()[0]
    assert header.endswith(",perspective")
    report = (await http("GET", f"{server.url}/f/{w['id']}/report", headers=auth)).text
    assert 'data-testid="activity"' not in report and 'id="h-questions"' in report
    data = (await http("GET", f"{base}.json", headers=auth)).json()
    assert [a["title"] for a in data["activities"]] == ["Samen de wijk"]


async def test_a_workshop_stored_before_plans_is_a_plan_of_one(
    server: ServerProcess, store: Store
) -> None:
    w = await create_workshop(server.url, title="Oud", prompts=["Wat gaat goed?"])
    # As a workshop stored by the version before this one: no plan in its meta at all.
    await store.redis.hdel(keys.workshop_key(w["id"], "meta"), "plan", "activity", "aseq")
    s = await screens(server, w)
    fac, alice = s["fac"], s["alice"]
    everyone = list(s.values())
    for c in everyone:
        assert state(c)["workshop"]["activities"] == [{"id": "a1", "title": "Oud"}]
        assert state(c)["workshop"]["activity_id"] == "a1"
    await alice.ok("add_note", {"prompt_id": "q1", "text": "Blijft staan"})
    made = await fac.ok("add_activity", {"title": "Nieuw", "prompts": ["En nu?"]})
    assert made["result"]["activity_id"] == "a2"
    await move(fac, everyone, "a2")
    await move(fac, everyone, "a1")
    assert [n["text"] for n in state(alice)["notes"]] == ["Blijft staan"]
    await fresh_equal(server, everyone)
    await close_all(*everyone)


async def test_a_removed_participant_leaves_no_note_or_dot_in_any_activity(
    server: ServerProcess, store: Store
) -> None:
    w = await create_plan(server.url)
    s = await screens(server, w)
    fac, alice, bob = s["fac"], s["alice"], s["bob"]
    everyone = list(s.values())
    mine = (await alice.ok("add_note", {"prompt_id": "q1", "text": "Van Alice"}))["result"][
        "note_id"]
    other = (await bob.ok("add_note", {"prompt_id": "q1", "text": "Van Bob"}))["result"][
        "note_id"]
    await alice.ok("react", {"note_id": other, "emoji": "\U0001F44D", "on": True})
    await fac.ok("set_phase", {"phase": "vote"})
    await bob.ok("vote", {"item_id": mine, "delta": 1})
    await alice.ok("vote", {"item_id": other, "delta": 1})
    await move(fac, everyone, "a2")
    await fac.ok("remove_participant", {"participant_id": alice.pid})
    await move(fac, [fac, s["wall"], bob], "a1")
    assert [n["text"] for n in state(fac)["notes"]] == ["Van Bob"]
    assert state(fac)["votes"]["totals"] == {}
    assert state(fac)["notes"][0]["reactions"] == {}
    await fresh_equal(server, [fac, s["wall"], bob])
    await close_all(*everyone)

"""A session plan on the screens (issue 10), in real Chromium: a whole "wijkavond" from
the template on the landing page, with the control screen, the wall and three phones,
through every activity (notes everywhere, sorting in "Ordenen", dots in "Stemmen"),
ending in one report; the plan editor before a session starts (add, remove, move with
the keyboard, edit); and a plan downloaded from the control screen, after changes made
during the session, that starts a new session. axe finds nothing on any screen.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import orjson
import pytest
from playwright.sync_api import FilePayload, expect

from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens, shot
from tests.e2e.pages import Control, Landing, Phone, Wall
from tests.e2e.test_a11y import assert_accessible
from tests.support import CREATED, ServerProcess, http_sync

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def template(app: ServerProcess, template_id: str) -> dict[str, Any]:
    body = orjson.loads(http_sync("GET", f"{app.url}/api/templates?lang=nl").body)
    found: dict[str, Any] = next(t for t in body["templates"] if t["id"] == template_id)
    return found


def workshop_id(facilitator_link: str) -> str:
    return urlparse(facilitator_link).path.rsplit("/", 1)[-1]


def phone_line(phone: Phone) -> Any:
    return phone.page.locator("#phone-part")


def test_a_wijkavond_from_the_template_through_every_activity(
    screens: Screens, app: ServerProcess
) -> None:
    plan = template(app, "wijkavond")
    titles = [a["title"] for a in plan["activities"]]
    total = len(titles)
    assert total >= 4 and "Ordenen" in titles and "Stemmen" in titles

    # The landing page: pick the template; its parts are in the editor; start.
    landing = Landing(screens.page("landing", LAPTOP)).open()
    landing.choose_template("wijkavond")
    expect(landing.page.locator("#template-wijkavond-about li")).to_have_text(titles)
    assert landing.part_titles() == titles
    expect(landing.page.locator("#title")).to_have_value(plan["title"])
    assert_accessible(landing.page, "landing with the wijkavond chosen")
    shot(landing.page, "plan-landing", full_page=True)
    landing.page.click("#start-submit")
    links = landing.created()
    wid = workshop_id(links["facilitator"])
    CREATED.append(wid)

    control = Control(landing.page).open(links["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(links["projector"])
    phones = [Phone(screens.page(f"phone{i}", PHONE)).open(links["code"]) for i in range(3)]
    expect(control.programme()).to_have_text(titles)
    expect(control.current_activity()).to_have_text(titles[0])
    for i, phone in enumerate(phones):
        phone.set_profile(f"Buur {i + 1}")

    posted: dict[str, list[str]] = {}
    for index, title in enumerate(titles):
        line = f"Onderdeel {index + 1} van {total}: {title}"
        expect(wall.page.locator("#wall-part")).to_have_text(line)
        for phone in phones:
            expect(phone_line(phone)).to_have_text(line)
            # Nothing of the activity before: no own notes, its questions gone.
            expect(phone.page.locator("#my-notes .note")).to_have_count(0)
            expect(phone.page.locator("#note-text")).to_have_value("")
        questions = plan["activities"][index]["prompts"]
        if len(questions) == 1:
            expect(phones[0].page.locator(".prompt-single .prompt-text")).to_have_text(questions[0])
        else:
            expect(phones[0].page.locator(".prompt-choice label")).to_have_text(questions)

        # A suggested timer is offered on the control screen, and runs on the wall.
        seconds = (plan["activities"][index].get("settings") or {}).get("timer_seconds")
        if seconds:
            offer = control.page.locator("#plan-timer")
            expect(offer).to_contain_text(f"{round(seconds / 60)} minuten")
            control.page.click("#plan-timer-start")
            expect(wall.page.locator("#timer")).to_be_visible()
            expect(offer).to_be_hidden()

        texts = [f"{title}: idee van buur {i + 1}" for i in range(len(phones))]
        posted[title] = texts
        for phone, text in zip(phones, texts, strict=True):
            phone.post(text)
            expect(phone.my_note(text)).to_be_visible()
        for text in texts:
            expect(wall.note(text)).to_be_visible()
            expect(control.note(text)).to_be_visible()
        # The board and the wall hold this activity's notes only.
        expect(control.page.locator("#board-section .fnote")).to_have_count(len(texts))
        expect(wall.page.locator("#view-collect .wall-note")).to_have_count(len(texts))
        # A draft left on the first phone stays with this activity.
        phones[0].page.fill("#note-text", f"half af in {title}")

        if title == "Ordenen":
            control.phase("Ordenen")
            control.select(texts[0])
            control.select(texts[1])
            control.move_selected("Nieuw thema")
            expect(control.clusters()).to_have_count(1)
            control.rename(0, "Samen doen")
            expect(wall.page.locator("#view-cluster .cluster-name")).to_contain_text(["Samen doen"])
        if title == "Stemmen":
            control.phase("Stemmen")
            budget = plan["activities"][index]["settings"]["votes_per_participant"]
            for phone in phones:
                # The activity's own budget, not the 5 of the landing page's form.
                expect(phone.page.locator("#dots-left")).to_have_text(
                    f"Je hebt nog {budget} van de {budget} stippen over.")
                phone.vote(texts[0])
            expect(phones[0].my_dots(texts[0])).to_have_text(re.compile("^1 stip"))
            for name, page in (("control", control.page), ("wall", wall.page),
                               ("phone", phones[1].page)):
                assert_accessible(page, f"{name} voting in {title}")
            control.phase("Uitslag")
            expect(wall.page.locator("#results-chart .result-title").first).to_have_text(texts[0])
        if index == 1:
            for name, page in (("control", control.page), ("wall", wall.page),
                               ("phone", phones[2].page)):
                assert_accessible(page, f"{name} in activity {index + 1}")
            shot(control.page, "plan-control", full_page=True)
            shot(wall.page, "plan-wall")
            shot(phones[0].page, "plan-phone")

        if index == total - 1:
            break
        # The third phone sleeps through the move; it wakes up in the new activity.
        asleep = phones[2].page
        asleep.context.set_offline(True)
        expect(asleep.locator("#conn")).to_have_attribute("data-state", "offline")
        control.next_activity()
        expect(control.page.locator("#announcer")).to_have_text(
            f"Nieuw onderdeel: {index + 2} van {total}, {titles[index + 1]}.")
        asleep.context.set_offline(False)
        expect(asleep.locator("#conn")).to_have_attribute("data-state", "online")

    # Back to the first activity and forth again: each keeps its own notes and draft.
    control.go_to_activity(titles[0])
    expect(phones[0].my_note(posted[titles[0]][0])).to_be_visible()
    expect(phones[0].page.locator("#note-text")).to_have_value(f"half af in {titles[0]}")
    expect(wall.page.locator("#wall-part")).to_have_text(f"Onderdeel 1 van {total}: {titles[0]}")
    control.go_to_activity(titles[-1])
    expect(phones[0].my_note(posted[titles[-1]][0])).to_be_visible()
    control.phase("Afgesloten")

    # One report of the whole evening: every activity, every note.
    report = control.page
    report.goto(f"/f/{wid}/report")
    text = report.locator("main").inner_text()
    for title in titles:
        assert title in text, title
        for note in posted[title]:
            assert note in text, note
    assert_accessible(report, "the report of the evening")


def test_the_plan_editor_before_the_session_starts(screens: Screens, app: ServerProcess) -> None:
    plan = template(app, "start-stop-doorgaan")
    titles = [a["title"] for a in plan["activities"]]
    landing = Landing(screens.page("landing", LAPTOP)).open()
    page = landing.page
    kb = page.keyboard
    # Empty: one part, its questions only (as before plans).
    expect(page.locator("#plan-legend")).to_have_text("Vragen")
    expect(page.locator(".part-title")).to_have_count(0)

    landing.choose_template("start-stop-doorgaan")
    assert landing.part_titles() == titles
    expect(page.locator("#plan-legend")).to_have_text("Onderdelen")

    # Add a part: focus goes to its title.
    page.click("#add-part")
    n = len(titles) + 1
    expect(page.locator(f"#part-{n}-title")).to_be_focused()
    page.fill(f"#part-{n}-title", "Vragen uit de zaal")
    page.fill(f"#part-{n}-prompt-1", "Wat wil je nog vragen?")
    page.click(f"#part-{n}-add-prompt")
    expect(page.locator(f"#part-{n}-prompt-2")).to_be_focused()
    page.keyboard.type("Wie wil je nog horen?")

    # Move it up twice by keyboard: the focus stays on its "Omhoog" button (on "Omlaag"
    # once it is first, where "Omhoog" is gone).
    page.focus(f"#part-{n}-up")
    kb.press("Enter")
    expect(page.locator(f"#part-{n - 1}-up")).to_be_focused()
    expect(page.locator("#announcer")).to_have_text(
        f"‘Vragen uit de zaal’ is nu onderdeel {n - 1}.")
    kb.press("Enter")
    expect(page.locator(f"#part-{n - 2}-up" if n > 3 else "#part-1-down")).to_be_focused()
    expect(page.locator("#announcer")).to_have_text(
        f"‘Vragen uit de zaal’ is nu onderdeel {n - 2}.")
    expected = [*titles[: n - 3], "Vragen uit de zaal", *titles[n - 3:]]
    assert landing.part_titles() == expected
    assert page.input_value(f"#part-{n - 2}-prompt-2") == "Wie wil je nog horen?"

    # Remove the first part; rename what is now the first.
    page.click("#part-1-remove")
    expected = expected[1:]
    assert landing.part_titles() == expected
    expect(page.locator("#part-1-title")).to_be_focused()
    page.fill("#part-1-title", "Beginnen")
    expected[0] = "Beginnen"

    # A part without questions: refused beside the form, with its field marked.
    page.fill("#part-2-prompt-1", " ")
    for j in range(2, 7):
        if page.locator(f"#part-2-prompt-{j}").count():
            page.fill(f"#part-2-prompt-{j}", "")
    page.click("#start-submit")
    expect(page.locator("#start-error")).to_have_text("Geef onderdeel 2 minstens één vraag.")
    expect(page.locator("#part-2-prompt-1")).to_be_focused()
    assert_accessible(page, "landing with an edited plan and a refusal")
    page.fill("#part-2-prompt-1", "Wat is er nog te doen?")
    page.click("#start-submit")
    links = landing.created()
    CREATED.append(workshop_id(links["facilitator"]))

    control = Control(page).open(links["facilitator"])
    expect(control.programme()).to_have_text(expected)
    expect(control.current_activity()).to_have_text(expected[0])
    phone = Phone(screens.page("phone", PHONE)).open(links["code"])
    expect(phone_line(phone)).to_have_text(f"Onderdeel 1 van {len(expected)}: Beginnen")

    # "Leeg beginnen" on a fresh landing page: one part again.
    again = Landing(screens.page("again", LAPTOP)).open()
    again.choose_template("start-stop-doorgaan")
    again.page.check("#template-empty")
    expect(again.page.locator(".part-title")).to_have_count(0)
    expect(again.page.locator("#prompt-1")).to_have_value("")


def test_a_plan_changed_during_the_session_downloads_and_starts_a_new_one(
    screens: Screens, app: ServerProcess, tmp_path: Path
) -> None:
    body = {"title": "Buurtoverleg", "activities": [
        {"title": "Welkom", "prompts": ["Hoe gaat het?"]},
        {"title": "Zorgen", "prompts": ["Waar maak je je zorgen over?"]},
        {"title": "Kansen", "prompts": ["Welke kansen zie je?"]}]}
    resp = http_sync("POST", f"{app.url}/api/workshops", body)
    assert resp.status == 201, resp
    created = orjson.loads(resp.body)
    CREATED.append(created["id"])
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    page = control.page
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    phone.set_profile("Geheime Naam")
    phone.post("Een geheim briefje")
    expect(control.programme()).to_have_text(["Welkom", "Zorgen", "Kansen"])

    # Add a part during the session: it comes at the end, on every screen's count.
    page.click("#plan-add summary")
    page.fill("#plan-add-title", "Afsluiting")
    page.fill("#plan-add-prompts", "Wat neem je mee?\nWat wil je nog kwijt?")
    page.click("#plan-add-submit")
    expect(control.programme()).to_have_text(["Welkom", "Zorgen", "Kansen", "Afsluiting"])
    expect(page.locator("#plan-status")).to_have_text("Het programma is opgeslagen.")
    expect(phone_line(phone)).to_have_text("Onderdeel 1 van 4: Welkom")

    # Move "Kansen" up (keyboard), rename "Zorgen", remove nothing that holds notes.
    row = page.locator("#plan-list .plan-item")
    row.nth(2).get_by_role("button", name=re.compile("omhoog")).focus()
    page.keyboard.press("Enter")
    expect(control.programme()).to_have_text(["Welkom", "Kansen", "Zorgen", "Afsluiting"])
    # The focus stays with the part that moved: its "Omhoog" at its new place.
    expect(row.nth(1).get_by_role("button", name=re.compile("omhoog"))).to_be_focused()
    row.nth(2).get_by_role("button", name=re.compile("aanpassen")).click()
    edit_title = row.nth(2).locator("input[type=text]")
    expect(edit_title).to_be_focused()
    edit_title.fill("Zorgen en vragen")
    row.nth(2).locator("textarea").fill("Waar maak je je zorgen over?\nWat wil je weten?")
    row.nth(2).locator("button[type=submit]").click()
    expect(control.programme()).to_have_text(["Welkom", "Kansen", "Zorgen en vragen", "Afsluiting"])
    # The current part cannot be removed: it has no remove button.
    expect(row.nth(0).get_by_role("button", name=re.compile("weghalen"))).to_have_count(0)
    assert_accessible(page, "control with the programme edited")

    # Remove: a part without notes goes; one with notes is refused, in the server's words.
    page.fill("#plan-add-title", "Weg ermee")
    page.fill("#plan-add-prompts", "Iets?")
    page.click("#plan-add-submit")
    expect(control.programme()).to_have_count(5)
    row.nth(4).get_by_role("button", name=re.compile("weghalen")).click()
    expect(control.programme()).to_have_text(["Welkom", "Kansen", "Zorgen en vragen", "Afsluiting"])
    control.go_to_activity("Kansen")
    expect(phone_line(phone)).to_have_text("Onderdeel 2 van 4: Kansen")
    row.nth(0).get_by_role("button", name=re.compile("weghalen")).click()
    errors = json.loads((ROOT / "server/locales/errors.nl.json").read_text("utf-8"))
    expect(page.locator("#plan-status")).to_have_text(errors["activity_not_empty"])
    expect(control.programme()).to_have_text(["Welkom", "Kansen", "Zorgen en vragen", "Afsluiting"])

    # Download the plan: a file without notes or names.
    with page.expect_download() as info:
        page.click("#plan-download")
    path = tmp_path / "opzet.json"
    info.value.save_as(path)
    saved = json.loads(path.read_text("utf-8"))
    assert saved["format"] == "samenspel-plan"
    assert [a["title"] for a in saved["activities"]] == [
        "Welkom", "Kansen", "Zorgen en vragen", "Afsluiting"]
    assert saved["activities"][2]["prompts"] == [
        "Waar maak je je zorgen over?", "Wat wil je weten?"]
    raw = path.read_text("utf-8")
    for secret in ("Een geheim briefje", "Geheime Naam", created["code"],
                   created["facilitator_key"]):
        assert secret not in raw

    # A file that is not a plan of ours: the server's words, nothing made.
    landing = Landing(screens.page("landing", LAPTOP, allow=("status of 400",))).open()
    wrong = orjson.dumps({"format": "iets-anders", "version": 1, "title": "X",
                          "activities": [{"title": "A", "prompts": ["B"]}]})
    payload: FilePayload = {"name": "fout.json", "mimeType": "application/json",
                            "buffer": wrong}
    landing.page.set_input_files("#plan-file", files=[payload])
    expect(landing.page.locator("#plan-file-error")).to_have_text(errors["bad_plan"])
    expect(landing.page.locator("#created")).to_be_hidden()
    assert_accessible(landing.page, "landing refusing a plan file")
    huge: FilePayload = {"name": "groot.json", "mimeType": "application/json",
                         "buffer": b" " * 300_000 + wrong}
    landing.page.set_input_files("#plan-file", files=[huge])
    expect(landing.page.locator("#plan-file-error")).to_have_text(
        "Dit bestand is te groot voor een opzet. Kies het bestand dat je met "
        "‘Opzet downloaden’ hebt bewaard.")

    # The downloaded file starts a new session with the same plan.
    landing.page.set_input_files("#plan-file", str(path))
    links = landing.created()
    assert links["code"] != created["code"]
    CREATED.append(workshop_id(links["facilitator"]))
    again = Control(screens.page("again", LAPTOP)).open(links["facilitator"])
    expect(again.programme()).to_have_text(["Welkom", "Kansen", "Zorgen en vragen", "Afsluiting"])
    again.go_to_activity("Zorgen en vragen")
    phone2 = Phone(screens.page("phone2", PHONE)).open(links["code"])
    expect(phone2.page.locator(".prompt-choice label")).to_have_text(
        ["Waar maak je je zorgen over?", "Wat wil je weten?"])
    expect(phone2.page.locator("#my-notes .note")).to_have_count(0)


def test_a_note_written_offline_for_an_activity_that_is_over_comes_back(
    screens: Screens, app: ServerProcess
) -> None:
    body = {"title": "Avond", "activities": [
        {"title": "Welkom", "prompts": ["Hoe gaat het?"]},
        {"title": "Ideeën", "prompts": ["Wat mist er?"]}]}
    resp = http_sync("POST", f"{app.url}/api/workshops", body)
    assert resp.status == 201, resp
    created = orjson.loads(resp.body)
    CREATED.append(created["id"])
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    context = phone.page.context

    # Written on a phone without a connection, in "Welkom": it waits in the outbox.
    context.set_offline(True)
    expect(phone.page.locator("#conn")).to_have_attribute("data-state", "offline")
    phone.post("Goed, dank je")
    expect(phone.pending_notes()).to_have_count(1)
    control.next_activity()
    context.set_offline(False)

    # Back online in "Ideeën": not filed under its question, but given back with a word.
    expect(phone_line(phone)).to_have_text("Onderdeel 2 van 2: Ideeën")
    expect(phone.page.locator("#notice")).to_contain_text("onderdeel dat voorbij is")
    expect(phone.page.locator("#note-text")).to_have_value("Goed, dank je")
    expect(phone.page.locator("#my-notes .note")).to_have_count(0)
    expect(control.page.locator("#board-section .fnote")).to_have_count(0)
    assert_accessible(phone.page, "phone with a note of an activity that is over")


@pytest.mark.parametrize("screen", ["control", "wall", "phone"])
def test_screens_of_a_plan_do_not_jump(screens: Screens, app: ServerProcess, screen: str) -> None:
    """The programme, the wall's and the phone's "Onderdeel 2 van 3" line are drawn by the
    page as the modules draw them (tests/e2e/test_layout_shift.py's measure)."""
    from tests.e2e.test_layout_shift import layout_shift

    body = {"title": "Avond", "activities": [
        {"title": "Welkom", "prompts": ["Hoe gaat het?"]},
        {"title": "Ideeën", "prompts": ["Wat mist er?"], "settings": {"timer_seconds": 300}},
        {"title": "Kiezen", "prompts": ["Wat eerst?"]}]}
    created = orjson.loads(http_sync("POST", f"{app.url}/api/workshops", body).body)
    CREATED.append(created["id"])
    control = Control(screens.page("setup", LAPTOP)).open(created["urls"]["facilitator"])
    control.next_activity()
    if screen == "control":
        page = screens.page("measured", LAPTOP)
        page.goto(created["urls"]["facilitator"])  # the key becomes a cookie first
        url = page.url
        drawn = """() => document.querySelector("#conn").dataset.state === "online"
            && document.querySelector("#plan-list .plan-buttons button:not([disabled])")
            && document.querySelector("#people-count").textContent !== "" """
    elif screen == "wall":
        page = screens.page("measured", WALL)
        page.goto(created["urls"]["projector"])
        url = page.url
        drawn = """() => document.querySelector("#conn").dataset.state === "online" """
    else:
        page = screens.page("measured", PHONE)
        url = f"/j/{created['code']}"
        drawn = """() => document.querySelector("#conn").dataset.state === "online"
            && document.querySelector("#note-count").textContent !== "" """
    shift = layout_shift(page, url, drawn, f"{screen}, a plan of three")
    # Not just under the page limit: nothing of the plan moves at all (drawn by the
    # module alone, the line and the rows measured 0.036 to 0.049 here).
    assert shift < 0.005, page.evaluate("window.__shifts")
    line = {"control": "#plan-timer", "wall": "#wall-part", "phone": "#phone-part"}[screen]
    expect(page.locator(line)).to_be_visible()
    if screen != "control":
        expect(page.locator(line)).to_have_text("Onderdeel 2 van 3: Ideeën")

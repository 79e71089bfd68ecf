"""The facilitator's evening (issue 15) in real Chromium: paper cards typed in by
keyboard alone, the approval queue worked by keyboard, and the quiet wall; axe finds no
violations on any of the new views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens
from tests.e2e.pages import Control, Phone, Wall, exact
from tests.e2e.test_a11y import assert_accessible
from tests.e2e.test_keyboard import tab_to
from tests.support import http_sync

pytestmark = pytest.mark.e2e


def test_thirty_paper_cards_by_keyboard_only(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat gaat goed?", "Wat kan beter?"],
                            perspectives=["Bewoner", "Ambtenaar"])
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    page, kb = control.page, control.page.keyboard
    expect(page.locator("#paper-group option")).to_have_count(3)
    assert_accessible(page, "control with the paper-card entry")

    # The question and the writer's group once, with Tab and the arrow keys ...
    tab_to(page, "#paper-prompt")
    kb.press("ArrowDown")
    expect(page.locator("#paper-prompt")).to_have_value("q2")
    kb.press("Tab")
    kb.press("ArrowDown")
    expect(page.locator("#paper-group")).to_have_value("Bewoner")
    kb.press("Tab")
    # ... then card after card: Enter posts and clears the field for the next.
    for i in range(1, 31):
        kb.type(f"Kaartje {i}: meer groen")
        kb.press("Enter")
        expect(page.locator("#paper-text")).to_have_value("")
    expect(page.locator("#paper-status")).to_have_text("Briefje 30 toegevoegd. Typ het volgende.")
    assert page.evaluate("document.activeElement.id") == "paper-text"
    # An empty card is not sent; it says why.
    kb.press("Enter")
    expect(page.locator("#paper-status")).to_have_text("Typ eerst de tekst van het briefje.")

    expect(page.locator(".fnote.paper")).to_have_count(30)
    expect(exact(page, ".fnote", "Kaartje 7: meer groen").locator(".fnote-meta")).to_contain_text(
        "papier")
    expect(wall.page.locator(".wall-note")).to_have_count(30)
    resp = http_sync("GET", f"{screens.base_url}/api/workshops/{created['id']}/export.json",
                     headers={"Authorization": f"Bearer {created['facilitator_key']}"})
    notes = orjson.loads(resp.body)["notes"]
    assert len(notes) == 30
    assert {(n["source"], n["prompt_id"], n["perspective"]) for n in notes} == {
        ("paper", "q2", "Bewoner")}
    assert sorted(n["text"] for n in notes) == sorted(
        f"Kaartje {i}: meer groen" for i in range(1, 31))


def test_the_approval_queue_by_keyboard(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(approval_required=True)
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    for text in ("Eerste idee", "Tweede idee", "Derde idee"):
        phone.post(text)
        expect(phone.my_note(text).locator(".note-status")).to_have_text("Wacht op goedkeuring")
    page, kb = control.page, control.page.keyboard
    expect(page.locator("#approval-waiting")).to_have_text("3 briefjes wachten")
    expect(page.locator("#approval-list li")).to_have_count(3)
    # Oldest first.
    expect(page.locator("#approval-list .approval-text")).to_have_text(
        ["Eerste idee", "Tweede idee", "Derde idee"])
    assert_accessible(page, "control with the approval queue")
    assert_accessible(phone.page, "phone with a note waiting")
    expect(wall.page.locator(".wall-note")).to_have_count(0)

    # One key each: G approves, V hides; the focus goes on to the next note.
    tab_to(page, "#approval-list li")
    kb.press("g")
    expect(page.locator("#approval-list li")).to_have_count(2)
    expect(page.locator("#approval-list li").first).to_be_focused()
    kb.press("v")
    expect(page.locator("#approval-list li")).to_have_count(1)
    kb.press("g")
    expect(page.locator("#approval-list li")).to_have_count(0)
    expect(page.locator("#approval-empty")).to_be_visible()
    expect(page.locator("#approval-waiting")).to_be_hidden()
    expect(wall.page.locator(".wall-note-text")).to_have_text(["Eerste idee", "Derde idee"])
    expect(phone.my_note("Eerste idee").locator(".note-status")).to_have_text("Geplaatst")
    expect(phone.my_note("Tweede idee").locator(".note-status")).to_have_text(
        "De begeleider heeft dit briefje verborgen.")

    # Approve all, by keyboard too.
    for text in ("Vierde idee", "Vijfde idee"):
        phone.post(text)
    expect(page.locator("#approval-list li")).to_have_count(2)
    expect(page.locator("#approval-count")).to_have_text("2 briefjes wachten")
    tab_to(page, "#approval-all")
    kb.press("Enter")
    expect(page.locator("#approval-list li")).to_have_count(0)
    expect(wall.page.locator(".wall-note")).to_have_count(4)
    expect(phone.my_note("Vijfde idee").locator(".note-status")).to_have_text("Geplaatst")


def test_the_quiet_wall(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat gaat goed?", "Wat kan beter?"],
                            wall_during_collect="count")
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    phone.post("Stil idee een", "Wat gaat goed?")
    phone.post("Stil idee twee", "Wat kan beter?")
    phone.post("Stil idee drie", "Wat kan beter?")
    counts = wall.page.locator(".prompt-count")
    expect(counts).to_have_text(["1 briefje", "2 briefjes"])
    expect(wall.page.locator("#quiet-hint")).to_be_visible()
    expect(wall.page.locator(".wall-note")).to_have_count(0)
    assert "Stil idee" not in wall.page.locator("body").inner_text()
    assert_accessible(wall.page, "quiet wall")
    # The phones and the control screen are not quiet.
    expect(control.note("Stil idee drie")).to_be_visible()
    expect(control.page.locator("#set-quiet-wall")).to_be_checked()

    control.phase("Ordenen")
    expect(wall.page.locator(".wall-cluster .cluster-note-text")).to_have_count(3)
    expect(wall.page.locator("#quiet-hint")).to_be_hidden()
    assert_accessible(wall.page, "wall after the quiet collect")

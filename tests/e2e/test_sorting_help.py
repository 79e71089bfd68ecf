"""Sorting help in real Chromium (issue 11, acceptance 3): on the control screen the
suggested themes are shown with their notes and reasons; one theme is renamed and one
note left out, by keyboard; "Toepassen" makes the themes, "Ongedaan maken" puts it all
back. On a phone, typing a paraphrase of a note already posted shows "Lijkt op" with
that note (a hint in a polite live region; the focus stays in the text field). Two notes
that say the same thing are offered as a stack, and a note posted later is proposed for
the theme they made. axe finds nothing on either screen."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP, PHONE, Screens, shot
from tests.e2e.pages import Control, Phone
from tests.e2e.test_a11y import assert_accessible

pytestmark = pytest.mark.e2e

GREEN = ["Meer bomen in de straat", "Meer groen en bomen op het plein",
         "Plant bomen langs de fietsroute"]
TRAFFIC = ["Auto's rijden te hard door de wijk", "Drempels tegen het hardrijden van auto's",
           "Minder auto's in de straat"]


def test_suggest_rename_drop_apply_and_undo(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    for text in GREEN + TRAFFIC:
        phone.post(text)
        expect(control.note(text)).to_be_visible()
    control.phase("Ordenen")
    page = control.page
    page.click("#suggest-ask")
    themes = page.locator("#suggest-proposal .suggest-theme")
    expect(themes.first).to_be_visible(timeout=60_000)  # the model loads at the first question
    expect(page.locator("#suggest-status")).to_contain_text("voorgesteld")
    first = themes.first
    expect(first.locator(".suggest-reason")).not_to_have_text("")
    notes = first.locator(".suggest-note-text").all_text_contents()
    assert len(notes) >= 2, notes
    assert_accessible(page, "control with a proposal")
    page.locator("#suggest-section").scroll_into_view_if_needed()
    shot(page, "control-suggest")

    # Rename the first theme and leave out its first note, by keyboard.
    name = first.locator("input.suggest-name")
    name.focus()
    name.fill("Groen")
    page.keyboard.press("Tab")   # the first note's "Weglaten"
    expect(first.locator(".suggest-drop-note").first).to_be_focused()
    page.keyboard.press("Enter")
    kept = notes[1:]
    expect(first.locator(".suggest-note-text")).to_have_text(kept)
    expect(first.locator(".suggest-drop-note").first).to_be_focused()  # on to the next

    proposed = themes.count()
    page.click("#suggest-apply")
    expect(control.clusters()).to_have_count(proposed)
    groen = control.clusters().nth(0)   # the first theme made first
    expect(groen.locator(".cluster-title")).to_have_value("Groen")
    expect(groen.locator(".fnote-text")).to_have_text(kept, timeout=10_000)
    expect(page.locator("#loose-lists")).to_contain_text(notes[0])
    expect(page.locator("#suggest-undo")).to_be_visible()
    expect(page.locator("#suggest-status")).to_contain_text("toegepast")

    page.click("#suggest-undo")
    expect(control.clusters()).to_have_count(0)
    for text in GREEN + TRAFFIC:
        expect(page.locator("#loose-lists").get_by_text(text, exact=True)).to_be_visible()
    expect(page.locator("#suggest-undo")).to_be_hidden()
    expect(page.locator("#suggest-status")).to_contain_text("Ongedaan gemaakt")
    assert_accessible(page, "control after undo")


def test_the_phone_says_lijkt_op_for_a_paraphrase(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    writer = Phone(screens.page("writer", PHONE)).open(created["code"])
    writer.post("Meer bomen in de straat, het is bloedheet")
    expect(writer.my_note("Meer bomen in de straat, het is bloedheet")).to_be_visible()
    other = Phone(screens.page("other", PHONE)).open(created["code"])
    page = other.page
    area = page.locator("#note-text")
    area.click()
    area.press_sequentially("Plant meer bomen voor schaduw in onze straat", delay=20)
    hint = page.locator("#similar")
    expect(hint).to_be_visible(timeout=60_000)  # the server's model loads at the first hint
    expect(hint).to_contain_text("Lijkt op")
    expect(hint.locator("li")).to_contain_text(["Meer bomen in de straat, het is bloedheet"])
    assert page.locator("#similar-live").get_attribute("aria-live") == "polite"
    expect(area).to_be_focused()   # a hint only: the focus stays where the typing is
    assert_accessible(page, "phone with a hint")
    shot(page, "phone-similar")
    # The participant may post all the same; the hint goes with the text.
    page.click("#post-note")
    expect(other.my_note("Plant meer bomen voor schaduw in onze straat")).to_be_visible()
    expect(hint).to_be_hidden()
    # Too short: no hint.
    area.press_sequentially("ja", delay=20)
    page.wait_for_timeout(900)
    expect(hint).to_be_hidden()
    expect(page.locator("#note-count")).to_have_text(re.compile(r"\d"))


LITTER = ["Overal afval op het plein, het moet schoner!", "Het plein moet schoner, overal afval"]


def test_stack_duplicates_then_add_a_new_note_to_that_theme(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    """Two notes that say the same thing are offered as a stack ("Stapelen": one theme
    together); a note posted later on the same subject is proposed for that theme ("Bij
    thema …:") and goes into it when applied."""
    created = make_workshop()
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    for text in [*LITTER, *GREEN, *TRAFFIC]:
        phone.post(text)
        expect(control.note(text)).to_be_visible()
    control.phase("Ordenen")
    page = control.page
    page.click("#suggest-ask")
    dup = page.locator("#suggest-proposal .suggest-dup").filter(has_text=LITTER[0])
    expect(dup).to_be_visible(timeout=60_000)  # the model loads at the first question
    expect(dup).to_contain_text(LITTER[1])
    assert_accessible(page, "control with a stack offered")
    dup.locator(".suggest-stack").focus()
    page.keyboard.press("Enter")
    expect(control.clusters()).to_have_count(1)
    stacked = control.clusters().nth(0)
    expect(stacked.locator(".fnote-text")).to_have_text(LITTER, timeout=10_000)
    expect(page.locator("#suggest-status")).to_contain_text("gestapeld")
    title = stacked.locator(".cluster-title").input_value()

    late = "Zwerfafval en troep bij de bankjes op het plein"
    control.phase("Verzamelen")   # back to collecting: the help works late in collect too
    phone.post(late)
    expect(control.note(late)).to_be_visible()
    page.click("#suggest-ask")
    into = page.locator("#suggest-proposal .suggest-theme").filter(
        has_text=f"Bij thema {title}")
    expect(into).to_be_visible(timeout=30_000)
    expect(into.locator(".suggest-note-text")).to_contain_text([late])
    # Only the note for the existing theme is applied: the other proposals are left out.
    others = page.locator("#suggest-proposal .suggest-theme").filter(
        has_not_text=f"Bij thema {title}")
    while others.count():
        others.first.locator(".suggest-drop-theme").click()
    page.click("#suggest-apply")
    expect(stacked.locator(".fnote-text")).to_contain_text([late], timeout=10_000)
    expect(control.clusters()).to_have_count(1)
    assert_accessible(page, "control after adding to a theme")

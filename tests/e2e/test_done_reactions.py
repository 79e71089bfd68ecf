"""Issue 13 in real Chromium: "Ik ben klaar" on three phones reads "3 van 3 klaar" on the
wall and the control screen (and resets with the phase); reactions by touch and by
keyboard, named for screen readers, with their counts on the wall and the control
screen; the facilitator sorts the loose notes by reactions; axe finds nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from server.rules import REACTIONS
from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens
from tests.e2e.pages import Control, Phone, Wall, exact
from tests.e2e.test_a11y import assert_accessible

pytestmark = pytest.mark.e2e

THUMBS, HEART = REACTIONS[0], REACTIONS[1]


def others_note(page: Page, text: str) -> Locator:
    """A note of someone else on the phone, the list opened."""
    details = page.locator("#others-details")
    if details.get_attribute("open") is None:
        page.locator("#others-details summary").click()
    return exact(page, "#others-list .note", text)


def reaction(note: Locator, index: int) -> Locator:
    return note.locator(".reaction").nth(index)


def test_done_on_three_phones_reads_3_of_3_on_the_wall(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    phones = [Phone(screens.page(f"phone{i}", PHONE)).open(created["code"]) for i in range(3)]
    expect(wall.page.locator("#done-count")).to_have_text("0 van 3 klaar")
    for phone in phones:
        button = phone.page.get_by_role("button", name="Ik ben klaar")
        button.tap()
        expect(button).to_have_attribute("aria-pressed", "true")
    expect(wall.page.locator("#done-count")).to_have_text("3 van 3 klaar")
    expect(control.page.locator("#done-count")).to_have_text("3 van 3 klaar")
    expect(wall.page.locator("#done-bar")).to_have_attribute("style", "width: 100%;")

    # A phone that sleeps and reloads still says it is done.
    phones[0].page.reload()
    expect(phones[0].page.get_by_role("button", name="Ik ben klaar")).to_have_attribute(
        "aria-pressed", "true")
    # Taken back.
    phones[1].page.get_by_role("button", name="Ik ben klaar").tap()
    expect(wall.page.locator("#done-count")).to_have_text("2 van 3 klaar")
    expect(control.page.locator("#done-count")).to_have_text("2 van 3 klaar")
    # A new phase: nobody is done.
    control.next_phase()
    expect(wall.page.locator("#done-count")).to_have_text("0 van 3 klaar")
    for phone in phones:
        expect(phone.page.get_by_role("button", name="Ik ben klaar")).to_have_attribute(
            "aria-pressed", "false")


def test_reactions_by_touch_and_keyboard(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    author = Phone(screens.page("author", PHONE)).open(created["code"])
    toucher = Phone(screens.page("toucher", PHONE)).open(created["code"])
    typist = Phone(screens.page("typist", PHONE)).open(created["code"])
    author.post("Een bankje bij de vijver")
    author.post("Langer open")

    # By touch: one tap, and the count is in the button's name.
    note = others_note(toucher.page, "Een bankje bij de vijver")
    thumbs = note.get_by_role("button", name="duim omhoog, 0")
    thumbs.tap()
    pressed = note.get_by_role("button", name="duim omhoog, 1")
    expect(pressed).to_have_attribute("aria-pressed", "true")

    # By keyboard: Enter puts it on, Space takes it off; the focus stays on the button.
    note = others_note(typist.page, "Een bankje bij de vijver")
    heart = reaction(note, 1)
    heart.focus()
    typist.page.keyboard.press("Enter")
    heart = note.get_by_role("button", name="hartje, 1")
    expect(heart).to_have_attribute("aria-pressed", "true")
    expect(heart).to_be_focused()
    expect(note.get_by_role("button", name="duim omhoog, 1")).to_have_attribute(
        "aria-pressed", "false")
    typist.page.keyboard.press("Space")
    expect(note.get_by_role("button", name="hartje, 0")).to_be_focused()
    typist.page.keyboard.press("Space")
    expect(note.get_by_role("button", name="hartje, 1")).to_have_attribute("aria-pressed", "true")

    # Counts beside the note on the wall and on the control screen.
    wall_note = wall.note("Een bankje bij de vijver")
    expect(wall_note.locator(".wall-note-reactions")).to_contain_text(f"{THUMBS} 1")
    expect(wall_note.locator(".wall-note-reactions")).to_contain_text(f"{HEART} 1")
    expect(wall_note.locator(".wall-note-reactions .sr-only")).to_have_text(
        "duim omhoog, 1; hartje, 1")
    expect(control.note("Een bankje bij de vijver").locator(".fnote-meta")).to_contain_text(
        f"{THUMBS} 1 {HEART} 1")

    # A reload keeps each phone's own reactions, and does not react twice.
    toucher.page.reload()
    note = others_note(toucher.page, "Een bankje bij de vijver")
    expect(note.get_by_role("button", name="duim omhoog, 1")).to_have_attribute(
        "aria-pressed", "true")

    # The facilitator puts the notes with most reactions on top of the loose ones.
    loose = control.page.locator("#loose-lists .fnote .fnote-text")
    expect(loose).to_have_text(["Een bankje bij de vijver", "Langer open"])
    later = others_note(toucher.page, "Langer open")
    reaction(later, 2).tap()
    expect(later.get_by_role("button", name="goed idee, 1")).to_be_visible()
    reaction(others_note(typist.page, "Langer open"), 3).tap()
    reaction(others_note(typist.page, "Langer open"), 0).tap()
    expect(control.note("Langer open").locator(".fnote-meta")).to_contain_text(f"{THUMBS} 1")
    control.page.get_by_label("Meeste reacties bovenaan").check()
    expect(loose).to_have_text(["Langer open", "Een bankje bij de vijver"])


def test_done_and_reactions_are_accessible(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    author = Phone(screens.page("author", PHONE)).open(created["code"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    author.post("Toegankelijk groen")
    note = others_note(phone.page, "Toegankelijk groen")
    reaction(note, 0).tap()
    expect(note.get_by_role("button", name="duim omhoog, 1")).to_be_visible()
    phone.page.get_by_role("button", name="Ik ben klaar").tap()
    expect(wall.page.locator("#done-count")).to_have_text("1 van 2 klaar")
    expect(wall.note("Toegankelijk groen").locator(".wall-note-reactions")).to_be_visible()
    expect(control.page.locator("#done-count")).to_have_text("1 van 2 klaar")
    for where, page in (("phone", phone.page), ("wall", wall.page), ("control", control.page)):
        assert_accessible(page, f"{where} with done and reactions")
    control.next_phase()   # sorting: the same on the wall's clusters view
    expect(wall.page.locator("#view-cluster .wall-note-reactions")).to_contain_text(
        f"{THUMBS} 1")
    reaction(others_note(phone.page, "Toegankelijk groen"), 1).tap()
    expect(wall.page.locator("#view-cluster .wall-note-reactions")).to_contain_text(
        f"{HEART} 1")
    for where, page in (("phone", phone.page), ("wall", wall.page)):
        assert_accessible(page, f"{where} while sorting")


def test_js_reactions_match_the_server(screens: Screens) -> None:
    page = screens.page("landing", LAPTOP)
    page.goto("/")
    found = page.evaluate("""async () => {
        const m = await import("/static/js/protocol.js");
        return {reactions: m.REACTIONS, frozen: Object.isFrozen(m.REACTIONS),
                ops: [m.OP.SET_DONE, m.OP.REACT],
                events: [m.EVENT.PARTICIPANT_DONE, m.EVENT.NOTE_REACTED]};
    }""")
    assert found["reactions"] == list(REACTIONS) and found["frozen"]
    assert found["ops"] == ["set_done", "react"]
    assert found["events"] == ["participant_done", "note_reacted"]


def test_a_press_is_not_lost_when_the_phone_redraws_in_between(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    """A button is pressed by Space on its key up (and by a tap on its touch end): when
    the list was redrawn between down and up, the new button never saw the down, and the
    press was lost. In a full room something arrives every second (counts, others'
    reactions, the timer), so the others' notes are redrawn only when what they show
    changed."""
    created = make_workshop()
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    author = Phone(screens.page("author", PHONE)).open(created["code"])
    typist = Phone(screens.page("typist", PHONE)).open(created["code"])
    author.post("Een bankje bij de vijver")
    note = others_note(typist.page, "Een bankje bij de vijver")
    reaction(note, 1).focus()
    typist.page.keyboard.down("Space")
    control.start_timer(5)   # an event for every screen: the phone draws again
    expect(typist.page.locator("#timer")).to_be_visible()
    typist.page.keyboard.up("Space")
    heart = note.get_by_role("button", name="hartje, 1")
    expect(heart).to_have_attribute("aria-pressed", "true")
    expect(heart).to_be_focused()

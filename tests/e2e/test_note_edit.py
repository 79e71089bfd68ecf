"""Editing and deleting a note in place, on the control screen and on the phone: one piece
of UI (static/js/noteedit.js) that both screens use. The control screen's part had no
test: edit (cancel leaves the note as it was; save changes it on the phone too) and
delete (asked first; "no" keeps it, "yes" removes it everywhere)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP, PHONE, Screens
from tests.e2e.pages import Control, Phone

pytestmark = pytest.mark.e2e


def test_control_screen_edits_and_deletes_a_note(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    phone.post("Meer bankjes")
    phone.post("Minder verkeer")
    note = control.note("Meer bankjes")
    expect(note).to_be_visible()

    # Edit, then cancel: the form closes and the note is as it was.
    note.get_by_role("button", name="Aanpassen").click()
    area = control.page.get_by_label("Tekst van het briefje")
    expect(area).to_be_focused()
    expect(area).to_have_value("Meer bankjes")
    area.fill("Iets anders")
    control.page.get_by_role("button", name="Annuleren").click()
    expect(control.note("Meer bankjes")).to_be_visible()
    expect(control.page.locator(".fnote textarea")).to_have_count(0)

    # Edit and save: the new words are on the control screen and on the phone.
    control.note("Meer bankjes").get_by_role("button", name="Aanpassen").click()
    control.page.get_by_label("Tekst van het briefje").fill("Meer bankjes in de schaduw")
    control.page.locator(".fnote .edit-form button[type=submit]").click()
    expect(control.note("Meer bankjes in de schaduw")).to_be_visible()
    expect(phone.my_note("Meer bankjes in de schaduw")).to_be_visible()

    # Delete: asked first in the row; "no" keeps the note.
    other = control.note("Minder verkeer")
    other.get_by_role("button", name="Verwijderen").click()
    expect(other.locator(".confirm-text")).to_have_text("Verwijderen?")
    other.get_by_role("button", name="Nee").click()
    expect(other.locator(".confirm-text")).to_have_count(0)
    expect(other).to_be_visible()
    # "yes" removes it, here and on the phone, and says so to screen readers.
    other.get_by_role("button", name="Verwijderen").click()
    other.get_by_role("button", name="Ja, verwijderen").click()
    expect(control.page.locator("#announcer")).to_have_text("Het briefje is verwijderd.")
    expect(control.note("Minder verkeer")).to_have_count(0)
    expect(phone.my_note("Minder verkeer")).to_have_count(0)
    expect(phone.my_note("Meer bankjes in de schaduw")).to_be_visible()

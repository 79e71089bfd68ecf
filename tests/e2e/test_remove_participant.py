"""The facilitator removes a flooding participant from the control screen, with the
keyboard: its notes leave the wall, the others' stay (docs/security.md, Abuse)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens, shot
from tests.e2e.pages import Control, Phone, Wall
from tests.e2e.test_a11y import assert_accessible

pytestmark = pytest.mark.e2e


def test_remove_a_participant_from_the_control_screen(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat moet er beter?"])
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    troll = Phone(screens.page("troll", PHONE)).open(created["code"])
    anna = Phone(screens.page("anna", PHONE)).open(created["code"])
    troll.post("Spam een")
    troll.post("Spam twee")
    anna.post("Meer bankjes")
    expect(wall.note("Spam twee")).to_be_visible()
    expect(wall.note("Meer bankjes")).to_be_visible()
    expect(control.page.locator("#people-joins")).to_have_text(
        "De laatste minuut kwamen er 2 deelnemers bij.")

    row = control.person("Spam een")
    expect(row).to_contain_text("2 briefjes")
    row.locator(".person-remove").click()
    expect(control.person("Spam een").locator(".confirm-text")).to_contain_text("verwijderen?")
    control.person("Spam een").scroll_into_view_if_needed()
    shot(control.page, "control-remove-participant")
    assert_accessible(control.page, "control asking to remove a participant")
    control.page.get_by_role("button", name="Nee").click()
    control.remove_person("Spam een")

    expect(wall.note("Spam een")).to_have_count(0)
    expect(wall.note("Spam twee")).to_have_count(0)
    expect(wall.note("Meer bankjes")).to_be_visible()
    expect(troll.page.locator("#notice")).to_contain_text("uit deze sessie gehaald")
    expect(control.note("Spam een")).to_have_count(0)
    expect(control.person("Spam een")).to_have_count(0)
    expect(control.person("Meer bankjes")).to_contain_text("1 briefje")
    assert_accessible(control.page, "control after removing a participant")

    # Hide all notes of one participant, and show them again.
    control.person("Meer bankjes").get_by_role("button", name="Verberg alle briefjes van").click()
    expect(wall.note("Meer bankjes")).to_have_count(0)
    show = control.person("Meer bankjes").get_by_role("button", name="Toon alle briefjes van")
    expect(show).to_be_focused()   # the redrawn row keeps the keyboard where it was
    show.click()
    expect(wall.note("Meer bankjes")).to_be_visible()

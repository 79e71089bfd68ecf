"""Live: a note posted on a phone is on the wall (and the control screen) within 1 s."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens
from tests.e2e.pages import Control, Phone, Wall

pytestmark = pytest.mark.e2e


def test_note_on_the_wall_within_a_second(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])

    for n in range(3):
        text = f"Snel op de muur {n}"
        phone.post(text)
        started = time.monotonic()
        expect(wall.note(text)).to_be_visible(timeout=1000)
        assert time.monotonic() - started < 1.0
        expect(control.note(text)).to_be_visible(timeout=1000)
    # Notes that arrive live get the arrival animation; what was there stays in place.
    expect(wall.note("Snel op de muur 2")).to_have_class("wall-note arrive")
    assert wall.notes() == [f"Snel op de muur {n}" for n in range(3)]


def test_timer_and_phase_reach_every_screen(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])

    control.start_timer(2)
    for page in (wall.page, phone.page, control.page):
        expect(page.locator("#timer")).to_be_visible(timeout=1000)
        expect(page.locator("#timer-value")).to_have_text(re.compile(r"^(2:00|1:5\d)$"))
    control.page.click("#timer-pause")
    expect(wall.page.locator("#timer")).to_have_attribute("data-state", "paused")
    control.page.click("#timer-reset")
    expect(wall.page.locator("#timer")).to_be_hidden()

    control.phase("Ordenen")
    expect(phone.page.locator("#phase-name")).to_have_text("Ordenen", timeout=1000)
    expect(wall.page.locator("#wall-phase")).to_have_text("Ordenen", timeout=1000)
    expect(phone.page.locator("#write")).to_be_hidden()

"""axe-core finds no violations on the landing page, and on the phone, the control screen
and the wall while collecting, voting and showing results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens
from tests.e2e.pages import Control, Phone, Wall

pytestmark = pytest.mark.e2e

AXE = Axe()
SETTLED = """() => document.getAnimations().every(a =>
    a.playState !== "running" || a.effect.getComputedTiming().iterations === Infinity)"""


def assert_accessible(page: Page, where: str) -> None:
    # Let arrival animations (CSS animations and transitions) finish: axe measures
    # colours as they are painted. Endless ones (a spinner) are left running.
    page.wait_for_function(SETTLED, timeout=10_000)
    results = AXE.run(page)
    assert results.violations_count == 0, f"{where}:\n{results.generate_report()}"


def test_landing_and_join_pages(screens: Screens) -> None:
    page = screens.page("landing", LAPTOP)
    page.goto("/")
    assert_accessible(page, "landing")
    page.fill("#title", "Toegankelijk")
    page.fill("#prompt-1", "Wat gaat goed?")
    page.click("#start-submit")
    expect(page.locator("#created")).to_be_visible()
    assert_accessible(page, "landing after start")
    phone = screens.page("join", PHONE, allow=("status of 404",))
    phone.goto("/join?code=000000")
    assert_accessible(phone, "unknown code page")


def test_every_screen_in_every_phase(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat gaat goed?", "Wat kan beter?"],
                            perspectives=["Bewoner", "Ambtenaar"])
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    phone.post("Het groen in de wijk", "Wat gaat goed?")
    phone.post("Meer bankjes", "Wat kan beter?")
    phone.post("Verborgen tekst", "Wat kan beter?")
    control.hide("Verborgen tekst")
    control.start_timer(5)
    expect(wall.note("Meer bankjes")).to_be_visible()

    screens_now = (("phone", phone.page), ("control", control.page), ("wall", wall.page))
    for name, page in screens_now:
        assert_accessible(page, f"{name} collect")

    control.select("Meer bankjes")
    control.move_selected("Nieuw thema")
    expect(control.clusters()).to_have_count(1)
    control.phase("Stemmen")
    phone.vote("Het groen in de wijk", 2)
    expect(phone.my_dots("Het groen in de wijk")).to_have_text("2 stippen van jou")
    for name, page in screens_now:
        assert_accessible(page, f"{name} vote")

    control.phase("Uitslag")
    expect(wall.page.locator("#results-chart .result-list")).to_be_visible()
    for name, page in screens_now:
        assert_accessible(page, f"{name} results")

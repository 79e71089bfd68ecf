"""Keyboard only: the whole phone flow, and clustering on the control screen, with Tab,
Enter, Space and the arrow keys. Each step first tabs to its control, so the focus order
itself is tested: nothing is reachable only by mouse or touch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LAPTOP, PHONE, Screens
from tests.e2e.pages import Control, Phone

pytestmark = pytest.mark.e2e


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focus is on an element matching `selector`."""
    for _ in range(limit):
        if page.evaluate("s => !!document.activeElement?.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement?.outerHTML.slice(0, 200)")
    raise AssertionError(f"Tab never reached {selector}; focus is on {focused}")


def test_phone_by_keyboard_only(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat gaat goed?", "Wat kan beter?"],
                            perspectives=["Bewoner", "Ambtenaar"])
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    page = screens.page("phone", {"viewport": {"width": 375, "height": 667}})
    phone = Phone(page).open(created["code"])
    kb = page.keyboard

    # Choose the second question with the arrow keys, write, post.
    tab_to(page, "input[name=prompt]")
    kb.press("ArrowDown")
    expect(page.locator("#prompt-q2")).to_be_checked()
    tab_to(page, "#note-text")
    kb.type("Meer licht op straat")
    tab_to(page, "#post-note")
    kb.press("Enter")
    expect(phone.my_note("Meer licht op straat")).to_be_visible()
    expect(page.locator("#note-text")).to_be_focused()  # ready for the next idea
    kb.type("Een idee om weg te halen")
    kb.press("Tab")
    kb.press("Enter")
    expect(phone.my_note("Een idee om weg te halen")).to_be_visible()
    expect(phone.pending_notes()).to_have_count(0)

    # Edit one note, delete the other.
    tab_to(page, "#my-notes button[aria-label^='Briefje aanpassen: Meer licht']")
    kb.press("Enter")
    expect(page.locator("#my-notes textarea")).to_be_focused()
    kb.press("Control+a")
    kb.type("Meer licht op het plein")
    tab_to(page, "#my-notes .edit-form button[type=submit]")
    kb.press("Enter")
    expect(phone.my_note("Meer licht op het plein")).to_be_visible()
    # A note waiting for its ack has no buttons yet (it is in the outbox): under load the
    # acks may come after the Tabs, so wait for them (no note pending) before tabbing.
    expect(phone.pending_notes()).to_have_count(0)
    tab_to(page, "#my-notes button[aria-label^='Briefje verwijderen: Een idee']")
    kb.press("Enter")
    tab_to(page, "#my-notes .btn-danger")
    kb.press("Enter")
    expect(phone.my_note("Een idee om weg te halen")).to_have_count(0)

    # Name and group.
    tab_to(page, "#name")
    kb.type("Sam")
    tab_to(page, "#perspective")
    kb.press("ArrowDown")
    expect(page.locator("#perspective")).to_have_value("Bewoner")
    tab_to(page, "#profile-form button[type=submit]")
    kb.press("Enter")
    expect(page.locator("#profile-saved")).to_have_text("Opgeslagen.")
    # Groups show as counts only, never who is in which one; a group of fewer than 3
    # people counts as "anders" (other), even for the facilitator.
    expect(control.page.locator("#people-groups")).to_have_text(
        "Per groep: anders of geen groep 1")
    expect(control.note("Meer licht op het plein").locator(".fnote-meta")).to_have_text("Sam")

    # Dots: plus twice, minus once.
    control.phase("Stemmen")
    expect(phone.item("Meer licht op het plein")).to_be_visible()
    page.locator("#vote-heading").scroll_into_view_if_needed()
    tab_to(page, ".vote-item .plus")
    kb.press("Enter")
    kb.press("Enter")
    expect(phone.my_dots("Meer licht op het plein")).to_have_text("2 stippen van jou")
    kb.press("Shift+Tab")
    kb.press("Shift+Tab")
    tab_to(page, ".vote-item .minus")
    kb.press("Space")
    expect(phone.my_dots("Meer licht op het plein")).to_have_text("1 stip van jou")
    expect(page.locator("#dots-left")).to_contain_text("nog 4 van de 5")

    control.phase("Uitslag")
    expect(page.locator("#ranking .rank-title")).to_have_text(["Meer licht op het plein"])


def test_clustering_by_keyboard_only(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat kan beter?"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    for text in ("Bankjes", "Prullenbakken", "Lantaarns", "Speeltuin"):
        phone.post(text)
    page = screens.page("control", LAPTOP)
    control = Control(page).open(created["urls"]["facilitator"])
    expect(page.locator(".fnote")).to_have_count(4)
    kb = page.keyboard

    # Phase forward by keyboard.
    tab_to(page, "#phase-next")
    kb.press("Enter")
    expect(page.locator(".step[aria-current=step]")).to_contain_text("Ordenen")

    # Tick two notes with Space, make a new theme of them.
    tab_to(page, "#sel-" + control.note("Bankjes").get_attribute("data-id"))
    kb.press("Space")
    tab_to(page, "#sel-" + control.note("Prullenbakken").get_attribute("data-id"))
    kb.press("Space")
    expect(page.locator("#selected-count")).to_have_text("2 briefjes gekozen")
    page.locator("#move-bar").scroll_into_view_if_needed()
    page.focus("#phase-next")
    tab_to(page, "#move-target")
    expect(page.locator("#move-target")).to_have_value("new")
    tab_to(page, "#move-apply")
    kb.press("Enter")
    expect(control.clusters()).to_have_count(1)
    expect(control.clusters().nth(0).locator(".fnote")).to_have_count(2)

    # Name the theme, then move one more note into it with the menu and the arrow keys.
    tab_to(page, ".cluster-title")
    kb.type("Voorzieningen")
    kb.press("Enter")
    expect(page.locator("#move-target option", has_text="Voorzieningen")).to_have_count(1)
    tab_to(page, "#sel-" + control.note("Lantaarns").get_attribute("data-id"))
    kb.press("Space")
    page.focus("#phase-next")
    tab_to(page, "#move-target")
    kb.press("ArrowDown")
    expect(page.locator("#move-target")).to_have_value(control.clusters().nth(0).get_attribute("data-id"))
    tab_to(page, "#move-apply")
    kb.press("Enter")
    expect(control.clusters().nth(0).locator(".fnote")).to_have_count(3)

    # Take one out again ("no theme"), then dissolve the theme.
    tab_to(page, "#sel-" + control.note("Bankjes").get_attribute("data-id"))
    kb.press("Space")
    page.focus("#phase-next")
    tab_to(page, "#move-target")
    kb.press("End")
    expect(page.locator("#move-target")).to_have_value("loose")
    tab_to(page, "#move-apply")
    kb.press("Enter")
    expect(control.clusters().nth(0).locator(".fnote")).to_have_count(2)
    tab_to(page, ".cluster .btn-small")
    kb.press("Enter")
    expect(control.clusters()).to_have_count(0)
    expect(page.locator(".loose .fnote")).to_have_count(4)

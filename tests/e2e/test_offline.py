"""Offline: posts and dots made without network are queued, shown as pending, sent once
on reconnect; a reload loses nothing (token, seq and outbox live in localStorage)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP, PHONE, Screens
from tests.e2e.pages import Control, Phone, online

pytestmark = pytest.mark.e2e


def test_offline_posts_are_sent_once_and_survive_reload(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    context = screens.context(PHONE)
    page = context.new_page()
    screens.watch("phone", page)
    phone = Phone(page).open(created["code"])
    phone.post("Eerst online")
    expect(control.note("Eerst online")).to_be_visible()

    context.set_offline(True)
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    phone.post("Offline een")
    phone.post("Offline twee")
    expect(phone.pending_notes()).to_have_count(2)
    expect(page.locator("#conn-text")).to_contain_text("2 acties wachten")
    page.wait_for_timeout(500)
    expect(control.note("Offline een")).to_have_count(0)

    context.set_offline(False)
    online(page)
    expect(phone.pending_notes()).to_have_count(0)
    for text in ("Offline een", "Offline twee"):
        expect(phone.my_note(text)).to_have_count(1)
        expect(control.note(text)).to_have_count(1)
    expect(control.page.locator(".fnote")).to_have_count(3)

    # A reload, and another dropped network: still each note once.
    page.reload()
    online(page)
    expect(page.locator("#my-notes .note")).to_have_count(3)
    context.set_offline(True)
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    context.set_offline(False)
    online(page)
    expect(control.page.locator(".fnote")).to_have_count(3)

    # Dots too: one placed offline shows at once and is kept.
    control.phase("Stemmen")
    expect(phone.item("Offline een")).to_be_visible()
    phone.vote("Offline een", 2)
    expect(phone.my_dots("Offline een")).to_have_text("2 stippen van jou")
    context.set_offline(True)
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    phone.vote("Offline twee", 1)
    expect(phone.my_dots("Offline twee")).to_have_text("1 stip van jou")
    context.set_offline(False)
    online(page)
    expect(page.locator("#conn-text")).to_have_text("Verbonden")
    page.reload()
    online(page)
    expect(phone.my_dots("Offline een")).to_have_text("2 stippen van jou")
    expect(phone.my_dots("Offline twee")).to_have_text("1 stip van jou")
    expect(page.locator("#dots-left")).to_contain_text("nog 2 van de 5")
    expect(control.note("Offline een")).to_contain_text("2 stippen")
    expect(control.note("Offline twee")).to_contain_text("1 stip")

"""Offline: posts and dots made without network are queued, shown as pending, sent once
on reconnect; a reload loses nothing (token, seq and outbox live in localStorage). And
when the store is briefly unreachable (`try_again`), the op waits and goes again."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import WebSocketRoute, expect

from tests.e2e.conftest import LAPTOP, PHONE, Screens, shot
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
    expect(phone.pending_notes()).to_have_count(0)  # its ack is in, not only its event

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


def test_try_again_shows_a_calm_message_and_sends_again(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    """The store is briefly unreachable: the server answers `try_again`. The phone says so
    calmly (role=status), keeps the note, and sends the same op again until it is stored."""
    created = make_workshop(prompts=["Wat gaat goed?"])
    page = screens.page("phone", PHONE)
    refused: list[str] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "op" and frame.get("op") == "add_note" and len(refused) < 2:
                refused.append(frame["op_id"])
                ws.send(json.dumps({"type": "nack", "op_id": frame["op_id"], "error": {
                    "code": "try_again", "message": "Probeer het zo nog een keer."}}))
                return
            server.send(message)

        ws.on_message(from_page)

    page.route_web_socket(re.compile(r"/ws$"), route)
    phone = Phone(page).open(created["code"])
    phone.post("Even geduld graag")
    conn = page.locator("#conn")
    expect(conn).to_have_attribute("data-state", "waiting")
    expect(conn).to_have_attribute("role", "status")
    expect(conn).to_contain_text("Even geduld. Opslaan lukt nu even niet.")
    expect(phone.pending_notes()).to_have_count(1)
    expect(page.locator("#notice")).to_be_hidden()  # no error: nothing went wrong for good
    shot(page, "phone-try-again", full_page=True)
    expect(phone.pending_notes()).to_have_count(0, timeout=15_000)
    expect(phone.my_note("Even geduld graag")).to_be_visible()
    expect(conn).to_have_attribute("data-state", "online")
    assert len(refused) == 2 and refused[0] == refused[1]  # the same op, sent again
    stored = page.evaluate(
        "Object.entries(localStorage).filter(([k]) => k.includes('participant'))"
        ".map(([, v]) => JSON.parse(v).outbox.length)")
    assert stored == [0]

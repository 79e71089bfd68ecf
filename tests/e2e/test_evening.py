"""The facilitator's evening (issue 15), in real Chromium: a question added and reworded
on the control screen reaches the phone's choice and the wall's columns at once; a bad
question gets its words beside the field; "Afgesloten" and "Sessie wissen" ask first,
by keyboard, and closing can be undone; the control screen opened through 127.0.0.1
says that phones cannot reach it, with the LAN address. axe finds nothing on any of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens, shot
from tests.e2e.pages import Control, Phone, Wall
from tests.e2e.test_a11y import assert_accessible
from tests.e2e.test_keyboard import tab_to

pytestmark = pytest.mark.e2e


def test_questions_change_and_every_screen_follows(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat gaat goed?", "Wat kan beter?"])
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    page = control.page
    labels = phone.page.locator(".prompt-choice label")
    columns = wall.page.locator("#view-collect .prompt-text")
    expect(labels).to_have_text(["Wat gaat goed?", "Wat kan beter?"])
    phone.page.locator(".prompt-choice label", has_text="Wat kan beter?").click()

    # Add a question: the phone's choice and the wall's columns follow.
    expect(page.locator("#prompts-count")).to_contain_text("2 van de 6 vragen")
    page.fill("#prompt-add-text", "Wat mist er nog?")
    page.click("#prompt-add")
    expect(labels).to_have_text(["Wat gaat goed?", "Wat kan beter?", "Wat mist er nog?"])
    expect(columns).to_have_text(["Wat gaat goed?", "Wat kan beter?", "Wat mist er nog?"])
    expect(page.locator("#loose-lists h4")).to_have_text(
        ["Wat gaat goed?", "Wat kan beter?", "Wat mist er nog?"])
    expect(page.locator("#prompts-status")).to_have_text("De vragen zijn opgeslagen.")
    expect(page.locator("#prompt-add-text")).to_have_value("")

    # Reword one (Enter in its field): the same, and the phone keeps its choice.
    page.fill("#prompt-edit-q1", "Wat is er fijn in de wijk?")
    page.press("#prompt-edit-q1", "Enter")
    expect(labels).to_have_text(["Wat is er fijn in de wijk?", "Wat kan beter?",
                                 "Wat mist er nog?"])
    expect(columns.first).to_have_text("Wat is er fijn in de wijk?")
    expect(wall.page.locator("#view-collect .prompt-column").first).to_have_attribute(
        "aria-label", "Wat is er fijn in de wijk?")
    expect(phone.page.locator("#prompt-q2")).to_be_checked()

    # A phone writes under the new question; the wall shows it in that column.
    phone.post("Een speeltuin", "Wat mist er nog?")
    expect(wall.page.locator("#view-collect .prompt-column").nth(2)
           .locator(".wall-notes li")).to_contain_text(["Een speeltuin"])

    # An empty question: refused beside the field, nothing sent.
    page.fill("#prompt-edit-q2", "   ")
    page.press("#prompt-edit-q2", "Enter")
    expect(page.locator("#prompts-status")).to_have_text(
        "Schrijf eerst de vraag. Een lege vraag kan niet.")
    expect(page.locator("#prompt-edit-q2")).to_have_attribute("aria-invalid", "true")
    expect(labels.nth(1)).to_have_text("Wat kan beter?")
    assert_accessible(page, "control with the questions panel and a refused question")

    # Up to six; then the add form goes and the panel says why.
    for n, text in enumerate(("Vier?", "Vijf?", "Zes?"), start=4):
        page.fill("#prompt-add-text", text)
        page.click("#prompt-add")
        expect(page.locator(".prompt-edit")).to_have_count(n)
        expect(labels.last).to_have_text(text)
    expect(labels).to_have_count(6)
    expect(page.locator("#prompt-add-form")).to_be_hidden()
    expect(page.locator("#prompts-count")).to_contain_text("Er zijn 6 vragen")
    assert_accessible(phone.page, "phone with six questions")
    assert_accessible(wall.page, "wall with six questions")
    shot(page, "control-questions", full_page=True)


def test_closing_and_erasing_ask_first_by_keyboard(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat gaat goed?"])
    control = Control(screens.page("control", LAPTOP, allow=("status of 404",))).open(
        created["urls"]["facilitator"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    page = control.page
    kb = page.keyboard
    control.phase("Uitslag")
    current = page.locator("#phase-steps .step[aria-current=step]")

    # "Verder naar Afgesloten": a question that says what happens; Escape keeps the phase.
    tab_to(page, "#phase-next")
    kb.press("Enter")
    ask = page.locator("#phase-confirm")
    expect(ask).to_be_visible()
    expect(ask).to_contain_text("niemand meer briefjes schrijven")
    expect(ask).to_contain_text("terug naar een eerdere stap")
    expect(page.locator("#close-yes")).to_be_focused()
    assert_accessible(page, "control asking before closing")
    kb.press("Escape")
    expect(ask).to_be_hidden()
    expect(page.locator("#phase-next")).to_be_focused()
    expect(current).to_contain_text("Uitslag")
    # "Nee" (Tab, Enter) keeps it too.
    kb.press("Enter")
    kb.press("Tab")
    expect(page.locator("#close-no")).to_be_focused()
    kb.press("Enter")
    expect(ask).to_be_hidden()
    expect(current).to_contain_text("Uitslag")
    expect(phone.page.locator("#now-text")).not_to_contain_text("afgelopen")

    # Yes: closed, and the screen says how to go back.
    kb.press("Enter")
    expect(page.locator("#close-yes")).to_be_focused()
    kb.press("Enter")
    expect(current).to_contain_text("Afgesloten")
    expect(phone.page.locator("#now-text")).to_contain_text("afgelopen")
    expect(page.locator("#closed-hint")).to_be_visible()
    expect(page.locator("#closed-hint")).to_contain_text("weer open")
    assert_accessible(page, "control closed")

    # Back from closed, by keyboard: open again, and said so.
    tab_to(page, "#phase-back")
    kb.press("Enter")
    expect(current).to_contain_text("Uitslag")
    expect(page.locator("#info")).to_have_text("De sessie is weer open.")
    expect(page.locator("#closed-hint")).to_be_hidden()
    expect(phone.page.locator("#now-text")).not_to_contain_text("afgelopen")

    # "Sessie wissen": the question says what goes; Escape keeps everything.
    page.focus("#forget")
    tab_to(page, "#erase")
    kb.press("Enter")
    erase_ask = page.locator("#erase-box .confirm-text")
    expect(erase_ask).to_contain_text("briefjes, stippen, vragen en namen")
    expect(erase_ask).to_contain_text("Dit kan niet terug")
    expect(page.locator("#erase-yes")).to_be_focused()
    assert_accessible(page, "control asking before erasing")
    kb.press("Escape")
    expect(page.locator("#erase")).to_be_focused()
    expect(erase_ask).to_have_count(0)
    # Yes, by keyboard: gone, on the phone too.
    kb.press("Enter")
    expect(page.locator("#erase-yes")).to_be_focused()
    kb.press("Enter")
    expect(page.locator("h1")).to_have_text("De sessie is gewist.")
    expect(phone.page.locator("#notice")).to_contain_text("gewist")


def test_control_screen_on_loopback_names_the_lan_address(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    from tests.integration.test_lan import documented_lan_addresses

    created = make_workshop()
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    page = control.page
    lan = page.locator("#lan-notice")
    expect(lan).to_be_visible()
    expect(lan).to_contain_text("Telefoons kunnen deze computer zo niet bereiken")
    expect(lan).to_contain_text("HOST=0.0.0.0 make run")
    port = page.url.split(":")[2].split("/")[0]
    for address in documented_lan_addresses():
        expect(lan).to_contain_text(f"http://{address}:{port}")
    # Beside the join code and the QR code, in the same panel.
    expect(page.locator(".share #lan-notice")).to_have_count(1)
    assert_accessible(page, "control with the LAN notice")
    shot(page, "control-lan-notice", full_page=True)

"""Participants in the loop (issue 13), in real Chromium: merging themes by drag and by
keyboard (the dots go along, the phone's budget stays), "wat is er met mijn briefje
gebeurd?" on the phone after the results and after a reload, and on its own page;
"ik doe mee" on a phone with the count on the wall and no names; axe finds nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens
from tests.e2e.pages import Control, Phone, Wall, online
from tests.e2e.test_a11y import assert_accessible
from tests.e2e.test_keyboard import tab_to

pytestmark = pytest.mark.e2e

CONTACT = "anna@example.org"


def to_phase(control: Control, name: str) -> None:
    control.phase(name)


def card(control: Control, index: int) -> Any:
    return control.clusters().nth(index)


def make_themes(control: Control, texts: list[str], titles: list[str]) -> None:
    for i, (text, title) in enumerate(zip(texts, titles, strict=True)):
        control.drag_to_new(text)
        expect(control.clusters()).to_have_count(i + 1)
        control.rename(i, title)
        expect(control.clusters().nth(i).locator(".cluster-title")).to_have_value(title)


def test_merge_by_drag_and_by_keyboard(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(votes_per_participant=5, max_votes_per_item=3)
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    for text in ("Meer bomen", "Bankjes", "Licht"):
        phone.post(text)
        expect(control.note(text)).to_be_visible()
    to_phase(control, "Ordenen")
    make_themes(control, ["Meer bomen", "Bankjes", "Licht"], ["Groen", "Zitten", "Verlichting"])
    to_phase(control, "Stemmen")
    phone.vote("Groen", 2)
    expect(phone.my_dots("Groen")).to_contain_text("2")
    left = phone.page.locator("#dots-left")
    expect(left).to_contain_text("3")

    # Drag "Groen" by its handle onto "Zitten".
    handle = card(control, 0).locator(".merge-handle")
    expect(handle).to_be_visible()
    handle.drag_to(card(control, 1))
    expect(control.clusters()).to_have_count(2)
    zitten = control.clusters().nth(0)
    expect(zitten.locator(".cluster-title")).to_have_value("Zitten")
    assert sorted(control.cluster_notes(0)) == ["Bankjes", "Meer bomen"]
    # The phone: the dots went along, the budget stays.
    expect(phone.item("Groen")).to_have_count(0)
    expect(phone.my_dots("Zitten")).to_contain_text("2")
    expect(left).to_contain_text("3")

    # By keyboard only: Tab to "Samenvoegen met …" in the card of "Verlichting", the
    # arrow key to "Zitten", Tab to the button, Enter.
    licht = control.clusters().nth(1)
    expect(licht.locator(".cluster-title")).to_have_value("Verlichting")
    card_id = licht.get_attribute("data-id")
    select = licht.locator("select.merge-target")
    tab_to(control.page, f'.cluster[data-id="{card_id}"] select.merge-target', limit=200)
    control.page.keyboard.press("ArrowDown")
    expect(select.locator("option:checked")).to_have_text("Zitten")
    control.page.keyboard.press("Tab")
    expect(licht.locator("button.merge-apply")).to_be_focused()
    # Every text the live region says from now on (a later announcement may replace it
    # before the check below looks).
    control.page.evaluate("""() => {
      window.__said = [];
      const region = document.getElementById("announcer");
      new MutationObserver(() => window.__said.push(region.textContent))
        .observe(region, {childList: true, characterData: true, subtree: true});
    }""")
    control.page.keyboard.press("Enter")
    expect(control.clusters()).to_have_count(1)
    assert sorted(control.cluster_notes(0)) == ["Bankjes", "Licht", "Meer bomen"]
    expect(phone.my_dots("Zitten")).to_contain_text("2")
    expect(left).to_contain_text("3")
    control.page.wait_for_function(
        "() => (window.__said || []).some((text) => text.includes('samengevoegd'))")
    assert_accessible(control.page, "control after merging")


def receipt_note(page: Page, text: str) -> Any:
    return page.locator("#receipt-list .receipt-note").filter(
        has=page.get_by_text(text, exact=True))


def check_receipt(page: Page) -> None:
    expect(receipt_note(page, "Meer bomen")).to_contain_text("Zit in het thema: Groen")
    expect(receipt_note(page, "Meer bomen")).to_contain_text("1 stip")
    expect(receipt_note(page, "Meer bomen")).to_contain_text("Plek 1 van 1")
    expect(receipt_note(page, "Bankjes")).to_contain_text("Zit in geen thema")
    expect(receipt_note(page, "Bankjes")).to_contain_text("Geen stippen")
    expect(receipt_note(page, "Verstopt")).to_contain_text("verborgen")
    expect(receipt_note(page, "Weg ermee")).to_contain_text("weggehaald")
    # Only this participant's own notes.
    expect(page.locator("#receipt-list")).not_to_contain_text("Van iemand anders")
    expect(page.locator("#receipt-list .receipt-note")).to_have_count(4)


def test_receipt_on_a_phone_after_results_and_after_a_reload(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    code = created["code"]
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    phone = Phone(screens.page("phone", PHONE)).open(code)
    other = Phone(screens.page("other", PHONE)).open(code)
    phone.set_profile("Anna")
    for text in ("Meer bomen", "Bankjes", "Weg ermee", "Verstopt"):
        phone.post(text)
        expect(phone.my_note(text)).to_be_visible()
    other.post("Van iemand anders")
    expect(control.note("Van iemand anders")).to_be_visible()
    phone.delete("Weg ermee")
    expect(phone.my_note("Weg ermee")).to_have_count(0)
    control.hide("Verstopt")

    to_phase(control, "Ordenen")
    receipt = phone.page.locator("#receipt")
    expect(receipt).to_be_visible()
    make_themes(control, ["Meer bomen"], ["Groen"])
    expect(receipt_note(phone.page, "Meer bomen")).to_contain_text("Zit in het thema: Groen")
    to_phase(control, "Stemmen")
    phone.vote("Groen", 1)
    expect(phone.my_dots("Groen")).to_contain_text("1")
    to_phase(control, "Uitslag")
    check_receipt(phone.page)
    phone.page.reload()
    online(phone.page)
    check_receipt(phone.page)

    # "Ik doe mee" for Groen, with a contact and the consent line.
    helpers = phone.page.locator("#helpers")
    expect(helpers).to_be_visible()
    item = helpers.locator(".signup-item", has=phone.page.get_by_text("Groen", exact=True))
    item.get_by_role("button", name="Ik doe mee met: Groen").click()
    item.get_by_label(re.compile("Hoe kan de begeleider je bereiken")).fill(CONTACT)
    item.get_by_role("button", name="Ja, ik doe mee").click()
    expect(item.locator(".field-error")).to_be_visible()   # a contact needs the tick
    item.get_by_label(re.compile("De begeleider van deze sessie mag dit zien")).check()
    item.get_by_role("button", name="Ja, ik doe mee").click()
    expect(item.locator(".signup-mine")).to_contain_text(CONTACT)
    expect(item.locator(".signup-count")).to_contain_text("1 persoon doet mee")
    other_item = other.page.locator("#helpers .signup-item",
                                    has=other.page.get_by_text("Groen", exact=True))
    expect(other_item.locator(".signup-count")).to_contain_text("1 persoon doet mee")
    expect(other.page.locator("#helpers")).not_to_contain_text("Anna")
    # The wall: how many, never who.
    expect(wall.page.locator("#results-chart .result-helpers")).to_have_text(
        "1 persoon wil meehelpen")
    expect(wall.page.locator("body")).not_to_contain_text("Anna")
    expect(wall.page.locator("body")).not_to_contain_text(CONTACT)
    # The control screen: who, and the contact given with consent.
    expect(control.page.locator("#signup-list")).to_contain_text("Anna")
    expect(control.page.locator("#signup-list")).to_contain_text(CONTACT)
    for name, page in (("phone", phone.page), ("wall", wall.page), ("control", control.page)):
        assert_accessible(page, f"{name} with sign-ups")
    phone.page.reload()
    online(phone.page)
    expect(item.locator(".signup-mine")).to_contain_text(CONTACT)

    # The receipt as a page, also after the session; printable; on another device nothing.
    to_phase(control, "Afgesloten")
    phone.page.goto(f"/j/{code}/mijn")
    online(phone.page)
    check_receipt(phone.page)
    expect(phone.page.locator("#ws-title")).to_contain_text("Plannen voor het park")
    assert "token" not in phone.page.url
    assert_accessible(phone.page, "receipt page")
    phone.page.emulate_media(media="print")
    expect(phone.page.locator("#print")).to_be_hidden()
    expect(receipt_note(phone.page, "Meer bomen")).to_be_visible()
    phone.page.emulate_media(media="screen")
    # Taking it back after the session: gone from the control screen's list.
    mine = phone.page.locator("#helpers .signup-item",
                              has=phone.page.get_by_text("Groen", exact=True))
    mine.get_by_role("button", name="Toch niet meedoen met: Groen").click()
    expect(control.page.locator("#signup-list")).not_to_contain_text(CONTACT)
    stranger = screens.page("stranger", PHONE)
    stranger.goto(f"/j/{code}/mijn")
    expect(stranger.locator("#no-token")).to_be_visible()
    expect(stranger.locator("#receipt-list .receipt-note")).to_have_count(0)
    assert_accessible(stranger, "receipt page without a token")

"""The phone as a remote: the control screen at 375×667 with touch is in compact mode
(phase forward and back, the timer, the lock, the people online, the newest notes with
hide/show, paper cards, the "klaar" count; the approval queue when it is on) and steers a
whole workshop by taps; axe finds nothing on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, Screens, shot
from tests.e2e.pages import Phone, online
from tests.e2e.test_a11y import assert_accessible

pytestmark = pytest.mark.e2e

FORWARD = ["Verzamelen", "Ordenen", "Stemmen", "Uitslag", "Afgesloten"]
# Sections a remote leaves out (they come back with "show everything").
LEFT_OUT = ("#board-section", "#settings-heading", "#share-heading", "#erase")
KEPT = ("#phase-next", "#timer-form", "#lock", "#lock-silent", "#people-count",
        "#newest-section")


def current_phase(page: Page) -> Any:
    return expect(page.locator("#phase-steps .step[aria-current=step]"))


def open_remote(page: Page, url: str) -> Page:
    page.goto(url)
    online(page)
    return page


def test_remote_steers_a_workshop_by_touch(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    phone.post("Meer bankjes")
    phone.post("Schreeuwerig briefje")
    remote = open_remote(screens.page("remote", PHONE), created["urls"]["facilitator"])

    # Compact: what a facilitator needs while walking about, nothing wider than the phone.
    for selector in KEPT:
        expect(remote.locator(selector)).to_be_visible()
    for selector in LEFT_OUT:
        expect(remote.locator(selector)).to_be_hidden()
    assert remote.evaluate("document.documentElement.scrollWidth") <= 375
    expect(remote.locator("#people-count")).to_contain_text("1 online")
    newest = remote.locator("#newest-list .newest")
    expect(newest).to_have_count(2)
    expect(newest.nth(0)).to_contain_text("Schreeuwerig briefje")  # newest first
    assert_accessible(remote, "remote, collect")
    shot(remote, "remote-collect", full_page=True)

    # Moderation from the list: hide a note (the writer's phone says so), then show it.
    row = newest.filter(has_text="Schreeuwerig briefje")
    row.locator(".newest-toggle").tap()
    expect(row).to_have_class("newest is-hidden")
    expect(phone.my_note("Schreeuwerig briefje")).to_contain_text("verborgen")
    row.locator(".newest-toggle").tap()
    expect(row).to_have_class("newest")
    expect(phone.my_note("Schreeuwerig briefje")).not_to_contain_text("verborgen")

    # A card from paper, typed on the remote: it reaches the phone's view of others'
    # notes in the cluster phase like any note; here it shows in the newest list.
    expect(remote.locator("#paper-section")).to_be_visible()
    remote.fill("#paper-text", "Van een kaartje")
    remote.press("#paper-text", "Enter")
    expect(newest.nth(0)).to_contain_text("Van een kaartje")
    expect(remote.locator("#paper-text")).to_have_value("")
    # "Ik ben klaar" on the phone: the remote counts it.
    phone.page.get_by_role("button", name="Ik ben klaar").tap()
    expect(remote.locator("#done-count")).to_have_text("1 van 1 klaar")

    # The timer: start, pause, resume, stop.
    remote.fill("#timer-minutes", "3")
    remote.locator("#timer-form button[type=submit]").tap()
    expect(remote.locator("#timer")).to_be_visible()
    expect(phone.page.locator("#timer")).to_be_visible()
    remote.locator("#timer-pause").tap()
    expect(remote.locator("#timer")).to_have_attribute("data-state", "paused")
    expect(phone.page.locator("#timer")).to_have_attribute("data-state", "paused")
    remote.locator("#timer-resume").tap()
    expect(remote.locator("#timer-pause")).to_be_visible()
    expect(phone.page.locator("#timer")).not_to_have_attribute("data-state", "paused")
    remote.locator("#timer-reset").tap()
    expect(phone.page.locator("#timer")).to_be_hidden()

    # The lock: on, and it holds (a fresh load of the remote shows it); then off again.
    for locked in (True, False):
        remote.locator("#lock").tap()
        checked = expect(remote.locator("#lock"))
        (checked.to_be_checked if locked else checked.not_to_be_checked)()
        open_remote(remote, remote.url)
        (checked.to_be_checked if locked else checked.not_to_be_checked)()

    # Phases forward to the end and back to the start, each seen on the phone too.
    for name in FORWARD[1:]:
        remote.locator("#phase-next").tap()
        if name == FORWARD[-1]:  # closing asks first (it says what happens): yes
            remote.locator("#close-yes").tap()
        current_phase(remote).to_contain_text(name)
        expect(phone.page.locator("#phase-name")).to_have_text(name)
        if name == "Stemmen":
            assert_accessible(remote, "remote, vote")
    expect(remote.locator("#phase-next")).to_be_hidden()
    assert_accessible(remote, "remote, closed")
    for name in reversed(FORWARD[:-1]):
        remote.locator("#phase-back").tap()
        current_phase(remote).to_contain_text(name)
        expect(phone.page.locator("#phase-name")).to_have_text(name)
    expect(remote.locator("#phase-back")).to_be_hidden()

    # "Show everything": the full control screen after all, and back to the remote.
    remote.locator("#compact-toggle").tap()
    expect(remote.locator("#compact-toggle")).to_have_attribute("aria-pressed", "true")
    expect(remote.locator("#board-section")).to_be_visible()
    expect(remote.locator("#newest-section")).to_be_hidden()
    remote.locator("#compact-toggle").tap()
    expect(remote.locator("#board-section")).to_be_hidden()


def test_wide_control_screen_is_not_compact(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    page = open_remote(screens.page("control", {"viewport": {"width": 1280, "height": 900}}),
                       created["urls"]["facilitator"])
    expect(page.locator("#board-section")).to_be_visible()
    expect(page.locator("#settings-heading")).to_be_visible()
    expect(page.locator("#newest-section")).to_be_hidden()
    expect(page.locator("#compact-toggle")).to_be_hidden()

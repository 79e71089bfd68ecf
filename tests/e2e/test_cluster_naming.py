"""A facilitator names a new theme at once, before the server's answer or its event
has come back (a busy server, a slow network): the name is kept and stored, not lost.

The control screen's socket is routed through the test, which holds back what the
server sends (everything, or only the events) until the name has been typed."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.e2e.conftest import LAPTOP, PHONE, Screens
from tests.e2e.pages import Control, Phone

pytestmark = pytest.mark.e2e


class Hold:
    """Server → page frames pass, unless held (`what`: "all" or "events")."""

    def __init__(self) -> None:
        self.what: str | None = None
        self.held: list[str | bytes] = []
        self.sent_holding: set[str] = set()     # op ids the page sent while holding
        self.acked: set[str] = set()            # op ids whose ack reached the page
        self.page_side: WebSocketRoute | None = None

    def route(self, ws: WebSocketRoute) -> None:
        self.page_side = ws
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if self.what is not None and frame.get("type") == "op":
                self.sent_holding.add(str(frame.get("op_id")))
            server.send(message)

        ws.on_message(from_page)

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message)
            kind = frame.get("type")
            if self.what == "all" or (self.what == "events" and kind == "events"):
                self.held.append(message)
            else:
                if kind == "ack":
                    self.acked.add(str(frame.get("op_id")))
                ws.send(message)

        server.on_message(from_server)

    def release(self) -> None:
        self.what = None
        assert self.page_side is not None
        held, self.held = self.held, []
        for message in held:
            self.page_side.send(message)


def make_theme(page: Page, control: Control, notes: list[str]) -> None:
    for text in notes:
        page.locator("#sel-" + control.note(text).get_attribute("data-id")).check()
    page.select_option("#move-target", "new")
    page.click("#move-apply")


@pytest.mark.parametrize("held", ["all", "events"])
def test_a_theme_named_before_the_server_answered_keeps_its_name(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]], held: str
) -> None:
    created = make_workshop(prompts=["Wat kan beter?"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    for text in ("Bankjes", "Prullenbakken", "Lantaarns"):
        phone.post(text)
    page = screens.page("control", LAPTOP)
    hold = Hold()
    page.route_web_socket(re.compile(r"/ws$"), hold.route)
    control = Control(page).open(created["urls"]["facilitator"])
    expect(page.locator(".fnote")).to_have_count(3)
    control.phase("Ordenen")

    hold.what = held     # "all": no ack yet either; "events": the ack came, the event not
    make_theme(page, control, ["Bankjes", "Prullenbakken"])
    expect(control.clusters()).to_have_count(1)
    if held == "events":
        # The ack (not held) reaches the page; the event stays held.
        deadline = time.monotonic() + 10
        while not hold.sent_holding or not hold.sent_holding <= hold.acked:
            assert time.monotonic() < deadline, "the ack of the new theme never came"
            page.wait_for_timeout(20)   # lets Playwright deliver the routed frames
        expect(control.clusters().nth(0)).to_have_class(re.compile("pending"))
    title = control.clusters().nth(0).locator(".cluster-title")
    title.fill("Voorzieningen")
    title.press("Enter")
    hold.release()

    expect(page.locator("#move-target option", has_text="Voorzieningen")).to_have_count(1)
    # Stored: a fresh control screen shows the name too.
    fresh = Control(screens.page("control-fresh", LAPTOP)).open(created["urls"]["facilitator"])
    expect(fresh.clusters().nth(0).locator(".cluster-title")).to_have_value("Voorzieningen")

"""A facilitator names a new theme at once, before the server's answer or its event
has come back (a busy server, a slow network): the name is kept and stored, not lost.

The control screen's socket is routed through the test, which holds back what the
server sends (everything, or only the events) until the name has been typed."""

from __future__ import annotations

import json
import re
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
        self.page_side: WebSocketRoute | None = None

    def route(self, ws: WebSocketRoute) -> None:
        self.page_side = ws
        server = ws.connect_to_server()
        ws.on_message(server.send)

        def from_server(message: str | bytes) -> None:
            kind = json.loads(message).get("type")
            if self.what == "all" or (self.what == "events" and kind == "events"):
                self.held.append(message)
            else:
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
        page.wait_for_timeout(500)   # the ack (not held) arrives; the event stays held
        expect(control.clusters().nth(0)).to_have_class(re.compile("pending"))
    title = control.clusters().nth(0).locator(".cluster-title")
    title.fill("Voorzieningen")
    title.press("Enter")
    hold.release()

    expect(page.locator("#move-target option", has_text="Voorzieningen")).to_have_count(1)
    # Stored: a fresh control screen shows the name too.
    fresh = Control(screens.page("control-fresh", LAPTOP)).open(created["urls"]["facilitator"])
    expect(fresh.clusters().nth(0).locator(".cluster-title")).to_have_value("Voorzieningen")

"""User text is text: a note, a name and a theme title that look like HTML show as
literal text on the phone, the control screen, the wall, the exports and the report, and
never run (window.__x stays unset: the `screens` fixture checks every page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens
from tests.e2e.pages import Control, Phone, Wall, exact

pytestmark = pytest.mark.e2e

PAYLOAD = '<img src=x onerror="window.__x=1">'


def test_html_in_user_text_stays_text(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(title=PAYLOAD, prompts=[PAYLOAD], anonymous=False)
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])

    phone.set_profile(PAYLOAD)
    phone.post(PAYLOAD)
    expect(phone.my_note(PAYLOAD)).to_be_visible()
    expect(wall.note(PAYLOAD)).to_be_visible()
    expect(wall.note(PAYLOAD).locator(".wall-note-by")).to_have_text(PAYLOAD)  # not anonymous
    expect(control.note(PAYLOAD)).to_contain_text(PAYLOAD)
    expect(control.page.locator("#ws-title")).to_have_text(PAYLOAD)
    expect(wall.page.locator(".prompt-column .prompt-text")).to_have_text(PAYLOAD)

    control.select(PAYLOAD)
    control.move_selected("Nieuw thema")
    expect(control.clusters()).to_have_count(1)
    control.rename(0, PAYLOAD)
    control.phase("Ordenen")
    expect(exact(wall.page, ".wall-cluster .cluster-name", PAYLOAD)).to_be_visible()
    control.phase("Stemmen")
    phone.vote(PAYLOAD, 1)
    control.phase("Uitslag")
    expect(wall.page.locator("#results-chart .result-title")).to_contain_text(PAYLOAD)
    expect(phone.page.locator("#ranking .rank-title")).to_have_text(PAYLOAD)

    for name, page in screens.pages:
        assert page.locator('img[src="x"]').count() == 0, name

    # Exports and the report, with the facilitator's cookie.
    api = f"/api/workshops/{created['id']}"
    exported = control.page.request.get(f"{api}/export.json").json()
    assert exported["notes"][0]["text"] == PAYLOAD
    csv = control.page.request.get(f"{api}/export.csv").text()
    assert PAYLOAD.replace('"', '""') in csv
    md = control.page.request.get(f"{api}/export.md").text()
    assert "<img" not in md
    report = screens.page("report", LAPTOP)
    report.context.add_cookies(control.page.context.cookies())
    report.goto(f"/f/{created['id']}/report")
    expect(report.locator("body")).to_contain_text(PAYLOAD)
    assert report.locator('img[src="x"]').count() == 0

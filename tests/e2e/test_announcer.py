"""The polite live region (static/js/dom.js `announce`): what is said within the same
50 ms is said together, in order; a later announcement used to swallow one still
waiting (after a merge by keyboard, "… is samengevoegd met …" was lost when the merge's
own event was announced right after it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP, Screens
from tests.e2e.pages import Control

pytestmark = pytest.mark.e2e


def test_two_announcements_at_once_are_both_said(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    page = control.page
    page.evaluate("""async () => {
        const { announce } = await import("/static/js/dom.js");
        announce("Groen is samengevoegd met Zitten.");
        announce("1 nieuw briefje.");
    }""")
    region = page.locator("#announcer")
    expect(region).to_have_text("Groen is samengevoegd met Zitten. 1 nieuw briefje.")
    page.evaluate("""async () => (await import("/static/js/dom.js")).announce("Opgeslagen.")""")
    expect(region).to_have_text("Opgeslagen.")

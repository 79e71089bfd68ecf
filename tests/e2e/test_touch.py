"""Clustering by touch on a tablet: SortableJS turns a held finger into a drag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, Screens
from tests.e2e.pages import Control, Phone

pytestmark = pytest.mark.e2e

TABLET = {"viewport": {"width": 1024, "height": 1366}, "has_touch": True, "is_mobile": True}


def test_cluster_by_touch(screens: Screens, make_workshop: Callable[..., dict[str, Any]]) -> None:
    created = make_workshop()
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    for text in ("Bankjes", "Prullenbakken", "Speeltuin"):
        phone.post(text)
    control = Control(screens.page("tablet", TABLET)).open(created["urls"]["facilitator"])
    expect(control.page.locator(".fnote")).to_have_count(3)

    control.touch_drag("Bankjes", control.page.locator("#new-cluster-drop"))
    expect(control.clusters()).to_have_count(1)
    control.touch_drag("Prullenbakken", control.clusters().nth(0).locator(".note-drop"))
    expect(control.clusters().nth(0).locator(".fnote")).to_have_count(2)
    control.touch_drag("Bankjes", control.page.locator("ul.loose"))
    expect(control.clusters().nth(0).locator(".fnote")).to_have_count(1)
    expect(control.page.locator(".loose .fnote")).to_have_count(2)

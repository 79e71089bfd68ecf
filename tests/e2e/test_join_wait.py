"""A phone that joins while many join from its address waits its turn: the phone screen
says "Even geduld" (never an error page) and then gets in by itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import PHONE, Screens
from tests.support import CREATED, ServerProcess, http_sync

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def slow_hall(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    """One join at once per address, then one every 3 s. The join bucket's key lives only
    as long as it is not full again, so a shared Redis holds nothing of it for long."""
    proc = ServerProcess(redis_url, logs_dir, name="e2e-join-wait",
                         env={"JOINS_PER_SECOND": "0.333", "JOIN_BURST": "1"})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_a_slowed_phone_says_even_geduld_and_gets_in(slow_hall: ServerProcess,
                                                      browser: Browser) -> None:
    resp = http_sync("POST", f"{slow_hall.url}/api/workshops",
                     {"title": "Drukte", "prompts": ["Vraag?"]},
                     headers={"X-Forwarded-For": "192.0.2.200"})
    assert resp.status == 201
    created = orjson.loads(resp.body)
    CREATED.append(created["id"])
    screens = Screens(browser, slow_hall.url)
    try:
        first = screens.page("first", PHONE)
        second = screens.page("second", PHONE)
        # Both phones behind one address (a proxy on 127.0.0.1 says which).
        for page in (first, second):
            page.set_extra_http_headers({"X-Forwarded-For": "198.18.0.77"})
        first.goto(created["urls"]["join"])
        expect(first.locator("#conn")).to_have_attribute("data-state", "online")
        second.goto(created["urls"]["join"])
        expect(second.locator("#conn")).to_have_attribute("data-state", "waiting")
        expect(second.locator("#conn-text")).to_contain_text("Even geduld")
        expect(second.locator("#conn")).to_have_attribute("data-state", "online",
                                                           timeout=15_000)
        second.fill("#note-text", "Ik ben binnen")
        second.click("#post-note")
        expect(second.locator("#my-notes")).to_contain_text("Ik ben binnen")
        screens.check()
    finally:
        screens.close()

"""Issue 12, point 8: when the store cannot save (Valkey frozen), the wall, which sends no
ops of its own, shows the same calm try-again state as the phones, not "Verbonden"; and
"Verbonden" again once the store is back."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LAPTOP, Screens
from tests.e2e.pages import Wall
from tests.support import CREATED, ServerProcess, http_sync

pytestmark = pytest.mark.e2e


@pytest.fixture
def embedded_app(tmp_path: Path, logs_dir: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(None, logs_dir, name="e2e-store-down", data_dir=tmp_path / "data")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
        proc.reap()


def test_the_wall_shows_try_again_while_the_store_is_down(
    browser: Browser, embedded_app: ServerProcess
) -> None:
    resp = http_sync("POST", f"{embedded_app.url}/api/workshops",
                     {"title": "Muur", "prompts": ["Wat gaat goed?"]})
    assert resp.status == 201, resp
    created = resp.json()
    CREATED.append(created["id"])
    screens = Screens(browser, embedded_app.url)
    frozen = 0
    try:
        wall = Wall(screens.page("wall", LAPTOP)).open(created["urls"]["projector"])
        conn = wall.page.locator("#conn")
        expect(conn).to_have_attribute("data-state", "online")
        assert embedded_app.process is not None
        frozen = next(p.pid for p in psutil.Process(embedded_app.process.pid).children()
                      if "valkey" in p.name())
        os.kill(frozen, signal.SIGSTOP)
        expect(conn).to_have_attribute("data-state", "waiting")
        expect(conn).to_contain_text("Even geduld. Opslaan lukt nu even niet.")
        # A wall that connects afresh meanwhile (its hello refused with 1013) says the same.
        wall.page.context.set_offline(True)
        expect(conn).to_have_attribute("data-state", "offline")
        wall.page.context.set_offline(False)
        expect(conn).to_have_attribute("data-state", "waiting")
        expect(conn).to_contain_text("Even geduld. Opslaan lukt nu even niet.")
        os.kill(frozen, signal.SIGCONT)
        frozen = 0
        expect(conn).to_have_attribute("data-state", "online")
        expect(conn).to_contain_text("Verbonden")
        screens.check()
    finally:
        if frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(frozen, signal.SIGCONT)
        screens.close()

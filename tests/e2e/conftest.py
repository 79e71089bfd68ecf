"""Fixtures for the e2e tier: the real server as a subprocess, and real Chromium.

- `app` (session): `python -m server` on a free port, on the session's Redis (the
  embedded Valkey, or TEST_REDIS_URL), with its log attached to a failing test's report.
- `browser` (session): headless Chromium (CHROMIUM_PATH, else /usr/bin/chromium, else
  Playwright's own build).
- `screens`: opens browser contexts for the test (phone, control, wall) and checks, at the
  end, that no page logged an error or a CSP violation and that no page ran injected code.
- `workshop`: a fresh workshop made through the API.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support import CREATED, ServerProcess, http_sync

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
PHONE = {"viewport": {"width": 375, "height": 667}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2}
LAPTOP = {"viewport": {"width": 1440, "height": 1000}}
WALL = {"viewport": {"width": 1920, "height": 1080}}


@pytest.fixture(scope="session")
def app(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(redis_url, logs_dir, name="e2e")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _chromium_path() -> str | None:
    given = os.environ.get("CHROMIUM_PATH")
    if given:
        return given
    for name in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(name).exists():
            return name
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Screens:
    """Browser contexts for one test, each page watched for errors and CSP violations."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.pages: list[tuple[str, Page]] = []
        self.problems: list[str] = []

    def context(self, kind: dict[str, Any], locale: str = "nl-NL") -> BrowserContext:
        ctx = self.browser.new_context(base_url=self.base_url, locale=locale, **kind)
        ctx.set_default_timeout(10_000)
        self.contexts.append(ctx)
        return ctx

    def page(self, name: str, kind: dict[str, Any], locale: str = "nl-NL",
             allow: tuple[str, ...] = ()) -> Page:
        """A page in a new context; console errors containing a string of `allow` (say,
        the 404 of a page that is meant to be a 404) are not counted."""
        page = self.context(kind, locale).new_page()
        self.watch(name, page, allow)
        return page

    def watch(self, name: str, page: Page, allow: tuple[str, ...] = ()) -> None:
        self.pages.append((name, page))

        def console(msg: Any) -> None:
            if msg.type == "error" and not any(a in msg.text for a in allow):
                self.problems.append(f"{name}: console error: {msg.text}")

        page.on("console", console)
        page.on("pageerror", lambda err: self.problems.append(f"{name}: page error: {err}"))

    def check(self) -> None:
        for name, page in self.pages:
            if page.is_closed():
                continue
            if page.evaluate("window.__x") is not None:
                self.problems.append(f"{name}: injected code ran (window.__x is set)")
        # A WebSocket that a test cut on purpose may log a failed connection attempt.
        real = [p for p in self.problems if "WebSocket connection" not in p
                and "ERR_INTERNET_DISCONNECTED" not in p]
        assert not real, "\n".join(real)

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture
def screens(browser: Browser, app: ServerProcess) -> Iterator[Screens]:
    s = Screens(browser, app.url)
    try:
        yield s
        s.check()
    finally:
        s.close()


@pytest.fixture
def make_workshop(app: ServerProcess) -> Callable[..., dict[str, Any]]:
    def make(title: str = "Plannen voor het park", prompts: list[str] | None = None,
             **settings: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"title": title, "prompts": prompts or ["Wat moet er beter?"]}
        if settings:
            body["settings"] = settings
        resp = http_sync("POST", f"{app.url}/api/workshops", body)
        assert resp.status == 201, resp
        created: dict[str, Any] = orjson.loads(resp.body)
        CREATED.append(created["id"])
        return created

    return make


def shot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """A screenshot in test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path

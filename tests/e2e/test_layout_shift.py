"""No jumps while a page loads: Chromium's own layout-shift entries (the Cumulative Layout
Shift, without shifts right after input), summed from the first paint until the page has
drawn its state, on a phone (375×667, touch) with a slow CPU and network (CDP): the phone
page (collecting, two questions, groups, a running timer) and the control screen (the
remote, and on a laptop). The figures go to test-artifacts/layout-shift.json."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import ARTIFACTS, LAPTOP, PHONE, Screens
from tests.e2e.pages import Control, Phone

pytestmark = pytest.mark.e2e

CLS_LIMIT = 0.05
OBSERVE = """() => {
  window.__shifts = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.hadRecentInput) continue;
      const nodes = (e.sources || []).map((s) => s.node
        ? `${s.node.nodeName.toLowerCase()}#${s.node.id || ""}.${s.node.className || ""}` : "?");
      window.__shifts.push({ value: e.value, at: Math.round(e.startTime), nodes });
    }
  }).observe({ type: "layout-shift", buffered: true });
}"""
FRAMES = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
# A mid-range phone on a slow mobile network (Lighthouse's "slow 4G" and 4× CPU).
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 1.6 * 1024 * 1024 / 8,
           "uploadThroughput": 750 * 1024 / 8}
FIGURES: dict[str, float] = {}


def slow(page: Page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})


def layout_shift(page: Page, url: str, drawn: str, name: str) -> float:
    """Load `url` slowed down, wait until `drawn` (a JS condition: the module has drawn
    the state) and two frames more, and give the sum of the layout shifts."""
    page.add_init_script(f"({OBSERVE})()")
    slow(page)
    page.goto(url, wait_until="load", timeout=60_000)
    page.wait_for_function(drawn, timeout=60_000)
    page.evaluate("document.fonts.ready.then(() => true)")
    page.evaluate(FRAMES)
    shifts: list[dict[str, Any]] = page.evaluate("window.__shifts")
    total = sum(s["value"] for s in shifts)
    FIGURES[name] = round(total, 4)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "layout-shift.json").write_text(json.dumps(FIGURES, indent=2))
    assert total < CLS_LIMIT, f"{name}: CLS {total:.3f}: {shifts}"
    return total


def test_phone_page_does_not_jump(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat gaat goed?", "Wat kan beter?"],
                            perspectives=["Bewoner", "Ambtenaar"])
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    control.start_timer(10)
    Phone(screens.page("other", PHONE)).open(created["code"]).post("Een briefje van een ander")
    page = screens.page("phone", PHONE)
    drawn = """() => document.querySelector("#conn").dataset.state === "online"
        && document.querySelector("#note-count").textContent !== ""
        && document.querySelector("#profile-hint").textContent !== ""
        && document.querySelector("#timer-value").textContent !== "0:00" """
    layout_shift(page, f"/j/{created['code']}", drawn, "phone")


def test_phone_page_does_not_jump_while_voting(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    Phone(screens.page("other", PHONE)).open(created["code"]).post("Meer bankjes")
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    control.phase("Stemmen")
    drawn = """() => document.querySelector("#conn").dataset.state === "online"
        && document.querySelectorAll("#vote-items .vote-item").length === 1"""
    layout_shift(screens.page("phone", PHONE), f"/j/{created['code']}", drawn, "phone, voting")


@pytest.mark.parametrize("kind", ["remote", "laptop"])
def test_control_screen_does_not_jump(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]], kind: str
) -> None:
    created = make_workshop()
    Phone(screens.page("phone", PHONE)).open(created["code"]).post("Meer bankjes")
    page = screens.page(kind, PHONE if kind == "remote" else LAPTOP)
    # The key in the URL is swapped for a cookie first, so the load measured is the page's.
    page.goto(created["urls"]["facilitator"])
    drawn = """() => document.querySelector("#conn").dataset.state === "online"
        && document.querySelector("#people-count").textContent !== ""
        && document.querySelectorAll(".fnote").length === 1
        && [...document.images].every((i) => i.complete)"""
    layout_shift(page, page.url, drawn, f"control, {kind}")

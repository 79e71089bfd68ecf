"""The printable report: every visible note once, the JSON export's numbers, no axe-core
violations, a PDF from Chromium, and no perspective of a group under 3 people."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import orjson
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.e2e.conftest import ARTIFACTS, LAPTOP, Screens
from tests.support import CREATED, Client, ServerProcess, close_all, http_sync

pytestmark = pytest.mark.e2e

PAYLOAD = '<img src=x onerror="window.__x=1">'


def run_async(coro: Any) -> Any:
    """Run a coroutine on a loop of its own thread (Playwright's sync API owns this one)."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the test's thread
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    if "error" in out:
        raise out["error"]
    return out.get("value")


async def seed(app: ServerProcess, created: dict[str, Any]) -> dict[str, Any]:
    """4 residents and 3 civil servants vote; one entrepreneur (a group of 1) too."""
    fac = Client(app, name="facilitator")
    await fac.staff("facilitator", created["id"], created["facilitator_key"])
    groups = ["Bewoner"] * 4 + ["Ambtenaar"] * 3 + ["Ondernemer"]
    phones = [Client(app, name=f"phone{i}") for i in range(len(groups))]
    await asyncio.gather(*(p.join(created["code"]) for p in phones))
    try:
        for phone, group in zip(phones, groups, strict=True):
            await phone.ok("set_profile", {"name": None, "perspective": group})
        texts = ["Meer bankjes", "Een speeltuin", "Minder auto's", "Bomen planten",
                 PAYLOAD, "=HYPERLINK(\"x\")", "Weg met alles"]
        ids = []
        for i, text in enumerate(texts):
            ack = await phones[i % len(phones)].ok("add_note", {"prompt_id": "q1",
                                                                "text": text})
            ids.append(ack["result"]["note_id"])
        await fac.ok("moderate_note", {"note_id": ids[6], "hidden": True})
        cluster = (await fac.ok("cluster", {"note_ids": ids[2:4], "cluster_id": None,
                                            "title": "Groen en rustig"}))["result"]["cluster_id"]
        await fac.ok("set_phase", {"phase": "vote"})
        # Residents love "Meer bankjes"; both groups like the green cluster.
        for phone in phones[:4]:
            await phone.ok("vote", {"item_id": ids[0], "delta": 1})
            await phone.ok("vote", {"item_id": ids[0], "delta": 1})
            await phone.ok("vote", {"item_id": cluster, "delta": 1})
        for phone in phones[4:7]:
            await phone.ok("vote", {"item_id": cluster, "delta": 1})
            await phone.ok("vote", {"item_id": ids[1], "delta": 1})
        await phones[7].ok("vote", {"item_id": ids[4], "delta": 1})
        await fac.ok("set_phase", {"phase": "results"})
        return {"ids": ids, "texts": texts, "cluster": cluster}
    finally:
        await close_all(fac, *phones)


def test_report_matches_export_prints_and_guards_small_groups(
    screens: Screens, app: ServerProcess, make_workshop: Any
) -> None:
    created = make_workshop("Het Wilhelminaplein", ["Wat maakt het plein beter?"],
                            perspectives=["Bewoner", "Ambtenaar", "Ondernemer"])
    seeded = run_async(seed(app, created))
    wid, key = created["id"], created["facilitator_key"]
    export = orjson.loads(http_sync(
        "GET", f"{app.url}/api/workshops/{wid}/export.json?key={key}").body)

    page: Page = screens.page("report", LAPTOP)
    page.goto(f"/f/{wid}/report?key={key}")
    visible = [n["text"] for n in export["notes"] if not n["hidden"]]
    shown = page.locator("[data-testid=note]").all_inner_texts()
    # Every visible note exactly once (the payload as literal text); the hidden one not.
    assert sorted(shown) == sorted(visible)
    assert seeded["texts"][6] not in page.content()
    assert page.evaluate("window.__x") is None

    # The same figures as the JSON export.
    assert page.get_by_test_id("participants").inner_text() == str(
        export["participants"]["count"])
    assert page.get_by_test_id("voters").inner_text() == str(export["votes"]["voters"])
    rows = page.locator("[data-testid=ranking] + table tbody tr").all_inner_texts()
    totals = export["votes"]["totals"]
    assert len(rows) == len(export["votes"]["ranking"])
    for row, item in zip(rows, export["votes"]["ranking"], strict=True):
        assert row.split("\t")[2].strip() == str(totals[item])
    # Common ground puts the cluster both groups back before the residents' favourite.
    assert export["votes"]["ranking"][0] == seeded["ids"][0]
    assert export["votes"]["common_ground"][0] == seeded["cluster"]
    assert seeded["ids"][0] in export["votes"]["divided"]
    first_cg = page.locator("[data-testid=common-ground] + table tbody tr").first
    assert "Groen en rustig" in first_cg.inner_text()

    # A group of one is never shown on its own: not in the report, not in the export.
    for table_text in page.locator("table").all_inner_texts():
        assert "Ondernemer" not in table_text
    assert "Ondernemer" not in export["votes"]["by_perspective"]
    assert "Ondernemer" not in export["participants"]["by_perspective"]
    assert export["participants"]["by_perspective"].get("other") == 1

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(format="A4", print_background=True)
    (ARTIFACTS / "report.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000

    # Hidden notes only when the facilitator asks for them.
    page.goto(f"/f/{wid}/report?key={key}&hidden=1")
    listed = page.locator("[data-testid=note]").all_inner_texts()
    assert any(t.startswith(seeded["texts"][6]) for t in listed)


async def seed_plan(app: ServerProcess, created: dict[str, Any]) -> None:
    """Three activities: a note in each, dots in the second, the room left in the third."""
    fac = Client(app, name="facilitator")
    await fac.staff("facilitator", created["id"], created["facilitator_key"])
    phone = Client(app, name="phone")
    await phone.join(created["code"])
    try:
        await phone.ok("add_note", {"prompt_id": "q1", "text": "Het park"})
        await fac.ok("set_activity", {"activity_id": "a2"})
        idea = (await phone.ok("add_note", {"prompt_id": "q1", "text": "Een moestuin"}))[
            "result"]["note_id"]
        await fac.ok("set_phase", {"phase": "vote"})
        await phone.ok("vote", {"item_id": idea, "delta": 1})
        await fac.ok("set_phase", {"phase": "results"})
        await fac.ok("set_activity", {"activity_id": "a3"})
        await phone.ok("add_note", {"prompt_id": "q1", "text": "Goede avond"})
    finally:
        await close_all(fac, phone)


def test_the_report_of_a_session_plan_has_every_activity_and_passes_axe(
    screens: Screens, app: ServerProcess
) -> None:
    body = {"title": "Wijkavond", "activities": [
        {"title": "Welkom", "prompts": ["Wat is je favoriete plek?"]},
        {"title": "Ideeën", "prompts": ["Wat kan beter?"]},
        {"title": "Afsluiting", "prompts": ["Wat neem je mee?"]}]}
    resp = http_sync("POST", f"{app.url}/api/workshops", body)
    assert resp.status == 201, resp
    created = orjson.loads(resp.body)
    CREATED.append(created["id"])
    run_async(seed_plan(app, created))
    page: Page = screens.page("report", LAPTOP)
    page.goto(f"/f/{created['id']}/report?key={created['facilitator_key']}")
    sections = page.get_by_test_id("activity")
    assert sections.count() == 3
    for i, (title, note) in enumerate([("Welkom", "Het park"), ("Ideeën", "Een moestuin"),
                                       ("Afsluiting", "Goede avond")]):
        section = sections.nth(i)
        assert section.get_by_role("heading", level=2).inner_text() == f"Onderdeel {i + 1}: {title}"
        assert section.locator("[data-testid=note]").all_inner_texts() == [note]
    assert "Een moestuin" in sections.nth(1).locator(
        "[data-testid=common-ground] + table").inner_text()
    assert page.get_by_test_id("plan").locator("li").all_inner_texts() == [
        "Welkom", "Ideeën", "Afsluiting"]
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()

"""Lighthouse (npm, tests/lighthouse; mobile, its default simulated slow 4G and 4× CPU) on
the real server with Debian's Chromium: the phone page and the control screen score at
least 95 on performance, accessibility and best practices with a layout shift under 0.05;
the landing page, the one public page, at least 95 on SEO (and keeps the others). Each
page gets up to 3 runs until one meets the bar (see `measure`: load on a shared machine
only lowers a score).

Skipped, saying why, only when Node or Lighthouse is missing (`npm ci` in
tests/lighthouse installs it; .ci/run does). The scores go to
test-artifacts/lighthouse/scores.json (the README's screenshots section quotes them)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT, _chromium_path
from tests.support import ServerProcess, http_sync

pytestmark = pytest.mark.e2e

CLI = ROOT / "tests" / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"
FIGURES: dict[str, dict[str, float]] = {}
ATTEMPTS = 3


def lighthouse(url: str, name: str, headers: dict[str, str] | None = None) -> dict[str, float]:
    """Lighthouse's scores (0-100) per category of one page, and its CLS; its report in
    test-artifacts/lighthouse/<name>.json."""
    node = shutil.which("node")
    chrome = _chromium_path()
    if node is None or not CLI.exists() or chrome is None:
        pytest.skip("Lighthouse needs Node, Chromium and `npm ci` in tests/lighthouse")
    out = ARTIFACTS / "lighthouse"
    out.mkdir(parents=True, exist_ok=True)
    report = out / f"{name}.json"
    cmd = [node, str(CLI), url, "--output=json", f"--output-path={report}", "--quiet",
           f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}",
           "--max-wait-for-load=60000"]
    if headers:
        cmd.append(f"--extra-headers={json.dumps(headers)}")
    env = {**os.environ, "CHROME_PATH": chrome}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"lighthouse failed:\n{done.stdout}\n{done.stderr}"
    result = json.loads(report.read_text())
    scores = {c: round(result["categories"][c]["score"] * 100) for c in CATEGORIES}
    figures: dict[str, float] = {
        **scores,
        "cls": round(result["audits"]["cumulative-layout-shift"]["numericValue"], 4),
    }
    FIGURES[name] = figures
    (out / "scores.json").write_text(json.dumps(FIGURES, indent=2))
    losing = {c: lost for c in CATEGORIES if (lost := _failing(result, c))}
    print(name, figures, "losing points:", losing)  # shown in a failing test's report
    return figures


def _failing(result: dict[str, Any], category: str) -> list[str]:
    """The audits of a category that lose points (for the message of a failed check)."""
    refs = result["categories"][category]["auditRefs"]
    audits = result["audits"]
    return [r["id"] for r in refs if r.get("weight", 0) > 0
            and audits[r["id"]].get("score") is not None and audits[r["id"]]["score"] < 0.9]


def problems(figures: dict[str, float], categories: tuple[str, ...]) -> dict[str, float]:
    low = {c: figures[c] for c in categories if figures[c] < 95}
    if figures["cls"] >= 0.05:
        low["cls"] = figures["cls"]
    return low


def measure(url: str, name: str, categories: tuple[str, ...],
            headers: dict[str, str] | None = None) -> None:
    """Up to ATTEMPTS runs, until one meets the bar. Lighthouse's performance score reads
    the CPU time of the page's tasks: another process busy on a shared 2-core machine can
    only lower it, never raise it, so the best of a few runs is what the page does."""
    seen: list[dict[str, float]] = []
    for attempt in range(ATTEMPTS):
        figures = lighthouse(url, name if attempt == 0 else f"{name}-{attempt + 1}", headers)
        low = problems(figures, categories)
        if not low:
            return
        seen.append(low)
    raise AssertionError(f"{name}: below 95 (or CLS ≥ 0.05) in every run: {seen}")


def test_lighthouse_scores(
    app: ServerProcess, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat gaat goed?", "Wat kan beter?"])
    assert http_sync("GET", f"{app.url}/j/{created['code']}").status == 200
    staff = urlsplit(created["urls"]["facilitator"])
    key = parse_qs(staff.query)["key"][0]
    cookie = {"Cookie": f"sf_{created['id']}={key}"}

    screens = ("performance", "accessibility", "best-practices")
    measure(f"{app.url}/", "landing", ("seo", "accessibility", "best-practices"))
    measure(f"{app.url}/j/{created['code']}", "phone", screens)
    measure(f"{app.url}{staff.path}", "control", screens, cookie)

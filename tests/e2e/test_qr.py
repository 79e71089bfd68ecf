"""The QR code is an SVG of the absolute join URL with the join secret (`urls.join`):
PUBLIC_URL when set, else the address the request came to. Shown on the control screen
and, large, on the wall; only to a request with the workshop's view or facilitator key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from playwright.sync_api import expect

from server import qr
from tests.e2e.conftest import WALL, Screens
from tests.support import CREATED, ServerProcess, http_sync

pytestmark = pytest.mark.e2e

PUBLIC = "https://samenspel.example.org"


@pytest.fixture(scope="module")
def public_app(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(redis_url, logs_dir, name="e2e-public", env={"PUBLIC_URL": PUBLIC})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _create(base: str) -> dict[str, str]:
    resp = http_sync("POST", f"{base}/api/workshops", {"title": "QR", "prompts": ["Vraag?"]})
    assert resp.status == 201
    created: dict[str, str] = orjson.loads(resp.body)
    CREATED.append(created["id"])
    return created


def test_qr_encodes_the_request_address(app: ServerProcess) -> None:
    created = _create(app.url)
    wall = {"Authorization": f"Bearer {created['view_key']}"}
    resp = http_sync("GET", f"{app.url}/api/workshops/{created['id']}/qr.svg", headers=wall)
    assert resp.status == 200
    assert resp.headers["content-type"].startswith("image/svg+xml")
    assert created["urls"]["join"] == (
        f"/join?code={created['code']}&s={created['join_secret']}")
    assert resp.text == qr.svg(f"{app.url}{created['urls']['join']}")
    assert http_sync("GET", f"{app.url}/api/workshops/nope/qr.svg", headers=wall).status == 404
    # It carries the join secret: not for anyone who knows the workshop's id.
    assert http_sync("GET", f"{app.url}/api/workshops/{created['id']}/qr.svg").status == 404


def test_qr_and_wall_respect_public_url(public_app: ServerProcess, screens: Screens) -> None:
    created = _create(public_app.url)
    resp = http_sync("GET", f"{public_app.url}/api/workshops/{created['id']}/qr.svg",
                     headers={"Authorization": f"Bearer {created['facilitator_key']}"})
    assert resp.text == qr.svg(f"{PUBLIC}{created['urls']['join']}")
    wall = screens.page("wall", WALL)
    wall.goto(f"{public_app.url}{created['urls']['projector']}")
    expect(wall.locator(".join-host")).to_have_text("samenspel.example.org")
    qr_image = wall.locator(".wall-qr")
    expect(qr_image).to_have_attribute("src", f"/api/workshops/{created['id']}/qr.svg")
    assert qr_image.evaluate("img => img.complete && img.naturalWidth > 0")

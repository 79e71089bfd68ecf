"""Promise: the WebSocket refuses a missing or foreign Origin before it accepts
(docs/security.md, Browser): the handshake is answered with HTTP 403 and no socket opens.
The app's own origin, PUBLIC_URL and the origins in ALLOWED_ORIGINS are accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support import Client, ServerProcess, close_all, create_workshop

ALLOWED = "https://samenspel.example.nl"
PUBLIC = "https://workshop.gemeente.example"


@pytest.fixture(scope="module")
def with_origins(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    env = {"ALLOWED_ORIGINS": f"{ALLOWED}, https://tweede.example.nl", "PUBLIC_URL": PUBLIC}
    with ServerProcess(redis_url, logs_dir, name="origins", env=env) as proc:
        yield proc


async def handshake_status(server: ServerProcess, origin: str | None) -> int:
    """The HTTP status of the WebSocket handshake (101 when a socket opened)."""
    try:
        async with connect(server.ws_url, origin=origin, proxy=None,  # type: ignore[arg-type]
                           open_timeout=10) as ws:
            assert ws.response is not None
            return ws.response.status_code
    except InvalidStatus as err:
        return err.response.status_code


async def test_foreign_or_missing_origin_is_refused_with_403(server: ServerProcess) -> None:
    port = server.port
    refused = [
        None,                                   # no Origin header at all
        "null",                                 # sandboxed frames, file: pages
        "http://evil.example",
        f"http://127.0.0.1:{port}.evil.example",
        f"http://evil.example/?http://127.0.0.1:{port}",
        f"http://127.0.0.1:{port + 1}",         # another port is another origin
        f"http://localhost:{port}",             # another host name for the same server
        "",
    ]
    for origin in refused:
        assert await handshake_status(server, origin) == 403, origin


async def test_own_origin_is_accepted(server: ServerProcess) -> None:
    assert await handshake_status(server, server.origin) == 101
    w = await create_workshop(server.url)
    c = Client(server, name="own-origin")
    welcome = await c.join(w["code"])
    assert welcome["you"]["role"] == "participant"
    await close_all(c)


async def test_allowed_origins_and_public_url_are_accepted(with_origins: ServerProcess) -> None:
    for origin in (ALLOWED, "https://tweede.example.nl", PUBLIC, with_origins.origin):
        assert await handshake_status(with_origins, origin) == 101, origin
    for foreign in ("https://samenspel.example.nl.evil.example", "http://samenspel.example.nl",
                    "https://evil.example", None):
        assert await handshake_status(with_origins, foreign) == 403, foreign
    w = await create_workshop(with_origins.url)
    staff = Client(with_origins, name="allowed-origin", origin=ALLOWED)
    welcome = await staff.staff("projector", w["id"], w["view_key"])
    assert welcome["you"]["role"] == "projector"
    await close_all(staff)

"""The app's own error page (templates/error.html) for an unknown address and for a
server error, in the visitor's language; a JSON route keeps a JSON error body."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server import keys
from server.store import Store
from tests.support import ServerProcess, create_workshop, http


@pytest.fixture(scope="module")
def own_server(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    """A server of its own: the forced error below leaves a traceback in its log."""
    proc = ServerProcess(redis_url, logs_dir, name="error-pages")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
        proc.reap()


@pytest.mark.parametrize(("lang", "title", "text"), [
    ("nl", "Niet gevonden", "Deze pagina bestaat niet."),
    ("en", "Not found", "This page does not exist."),
])
async def test_unknown_address_gets_the_not_found_page(
    server: ServerProcess, lang: str, title: str, text: str
) -> None:
    page = await http("GET", f"{server.url}/nope", headers={"accept-language": lang})
    assert page.status == 404, page
    assert page.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in page.text
    assert title in page.text and text in page.text
    assert "content-security-policy" in page.headers


async def test_unknown_json_address_gets_a_json_error(server: ServerProcess) -> None:
    answer = await http("GET", f"{server.url}/api/nope", headers={"accept-language": "en"})
    assert answer.status == 404, answer
    assert answer.json()["error"] == {"code": "not_found",
                                      "message": "This address does not exist."}


@pytest.mark.parametrize(("lang", "title", "text"), [
    ("nl", "Er ging iets mis", "Er ging bij ons iets mis."),
    ("en", "Something went wrong", "Something went wrong on our side."),
])
async def test_server_error_gets_the_error_page_without_a_trace(
    own_server: ServerProcess, store: Store, lang: str, title: str, text: str
) -> None:
    """A stored workshop the code cannot read (its timer is no JSON, as a broken
    migration or a hand edit could leave it) makes the report fail: an unhandled error."""
    w = await create_workshop(own_server.url)
    await store.redis.hset(keys.workshop_key(w["id"], "meta"), "timer", "{broken")
    page = await http("GET", f"{own_server.url}/f/{w['id']}/report?key={w['facilitator_key']}",
                      headers={"accept-language": lang})
    assert page.status == 500, page
    assert f'<html lang="{lang}">' in page.text
    assert title in page.text and text in page.text
    for leak in ("Traceback", "JSONDecodeError", "unexpected character", "orjson"):
        assert leak not in page.text
    assert "content-security-policy" in page.headers  # sent outside the header middleware
    # The operator still sees it: uvicorn logs the traceback once the page is sent.
    deadline = time.monotonic() + 5
    while "JSONDecodeError" not in own_server.log_text():
        assert time.monotonic() < deadline, own_server.log_tail(40)
        await asyncio.sleep(0.05)


async def test_json_errors_choose_the_language_as_pages_do(server: ServerProcess) -> None:
    """One order of choice (server/language.py): the browser's first language that we
    speak, by quality, for a JSON error as for a page."""
    headers = {"accept-language": "de-DE,de;q=0.9,en;q=0.8"}
    answer = await http("GET", f"{server.url}/api/nope", headers=headers)
    assert answer.json()["error"]["message"] == "This address does not exist."
    page = await http("GET", f"{server.url}/nope", headers=headers)
    assert '<html lang="en">' in page.text

"""Promise (docs/security.md, Browser): the landing page, the one public page, may be
found (a meta description in its language, no `noindex`); every workshop page (phone,
control screen, wall, report, join and error pages) asks not to be indexed."""

from __future__ import annotations

import re

import pytest

from tests.support import HttpResponse, ServerProcess, create_workshop, http

NOINDEX = re.compile(r'<meta name="robots" content="noindex">')
DESCRIPTION = re.compile(r'<meta name="description" content="([^"]+)">')


def indexable(resp: HttpResponse) -> bool:
    return not NOINDEX.search(resp.text) and "noindex" not in resp.headers.get(
        "x-robots-tag", "")


@pytest.mark.parametrize(("query", "words"), [("", "eigen telefoon"), ("?lang=en", "own phone")])
async def test_landing_page_may_be_found(server: ServerProcess, query: str, words: str) -> None:
    resp = await http("GET", f"{server.url}/{query}", headers={"accept-language": "nl"})
    assert resp.status == 200, resp
    assert indexable(resp), resp.text[:600]
    found = DESCRIPTION.search(resp.text)
    assert found and words in found.group(1), resp.text[:600]


async def test_workshop_pages_ask_not_to_be_indexed(server: ServerProcess) -> None:
    w = await create_workshop(server.url)
    wid, fkey, vkey = w["id"], w["facilitator_key"], w["view_key"]
    pages = {
        "phone": (f"/j/{w['code']}", {}),
        "control": (f"/f/{wid}", {"Cookie": f"sf_{wid}={fkey}"}),
        "wall": (f"/p/{wid}", {"Cookie": f"sp_{wid}={vkey}"}),
        "report": (f"/f/{wid}/report", {"Cookie": f"sf_{wid}={fkey}"}),
        "join": ("/join", {}),
        "unknown code": ("/j/0000000", {}),
        "not found": ("/nope", {}),
    }
    for what, (path, headers) in pages.items():
        resp = await http("GET", server.url + path, headers=headers, follow=False)
        assert resp.headers["content-type"].startswith("text/html"), (what, resp)
        assert not indexable(resp), what
        assert not DESCRIPTION.search(resp.text), what

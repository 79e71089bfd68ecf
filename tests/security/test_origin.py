"""Promise: the WebSocket refuses a missing or foreign Origin before it accepts
(docs/security.md, Browser): the handshake is answered with HTTP 403 and no socket opens.
The app's own origin, PUBLIC_URL and the origins in ALLOWED_ORIGINS are accepted.

Promise: every state-changing HTTP request (any method but GET, HEAD, OPTIONS) follows
the same origin rule when it carries an Origin, and needs one when it rests on a staff
cookie alone: else 403 `cross_site`, and nothing changes. A body must be JSON: else 415
`json_only` (a cross-site form or `text/plain` fetch), and nothing is created.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from server import keys
from server.store import Store, digest
from tests.support import CREATED, Client, ServerProcess, close_all, create_workshop, http

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


# ------------------------------------------------------------------- HTTP writes
FOREIGN = ["http://evil.example", "null", "", "http://127.0.0.1:1", "ftp://{host}",
           "http://{host}.evil.example", "http://[::1"]


def foreign_origins(server: ServerProcess) -> list[str]:
    host = f"127.0.0.1:{server.port}"
    return [o.format(host=host) for o in FOREIGN]


async def titles_stored(store: Store) -> set[str]:
    found = set()
    async for key in store.redis.scan_iter(match="ws:{*}:meta", count=1000):
        title = await store.redis.hget(key, "title")
        if title:
            found.add(title)
    return found


def refused_with(resp: Any, status: int, code: str, lang: str = "nl") -> None:
    assert resp.status == status, resp
    error = resp.json()["error"]
    assert error["code"] == code, resp
    sentence = {"cross_site": {"nl": "komt niet van deze website", "en": "does not come from"},
                "json_only": {"nl": "als JSON", "en": "as JSON"}}[code][lang]
    assert sentence in error["message"], resp


async def test_create_takes_only_json(server: ServerProcess, store: Store) -> None:
    """A cross-site page can POST `text/plain` or a form without a preflight: refused."""
    title = f"Via een vreemd formulier {secrets.token_hex(4)}"
    body = orjson.dumps({"title": title, "prompts": ["Vraag?"]})
    for ctype in ("text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x", "application/json-seq"):
        resp = await http("POST", f"{server.url}/api/workshops?lang=en", body, headers={
            "content-type": ctype, "origin": server.origin})
        refused_with(resp, 415, "json_only", "en")
    assert title not in await titles_stored(store)
    # JSON still works, with the app's own Origin or without one (curl, the benchmark).
    for headers in ({"origin": server.origin}, {}):
        resp = await http("POST", f"{server.url}/api/workshops", {
            "title": "Gewoon", "prompts": ["Vraag?"]},
            headers={"content-type": "application/json; charset=utf-8", **headers})
        assert resp.status == 201, resp
        CREATED.append(resp.json()["id"])


async def test_foreign_origin_cannot_write(server: ServerProcess, store: Store) -> None:
    w = await create_workshop(server.url)
    wid, fkey = w["id"], w["facilitator_key"]
    cookie = {"cookie": f"sf_{wid}={fkey}"}
    title = f"Van elders {secrets.token_hex(4)}"
    for origin in foreign_origins(server):
        resp = await http("POST", f"{server.url}/api/workshops/{wid}/keys",
                          headers={**cookie, "origin": origin})
        refused_with(resp, 403, "cross_site")
        resp = await http("DELETE", f"{server.url}/api/workshops/{wid}",
                          headers={**cookie, "origin": origin, "accept-language": "en"})
        refused_with(resp, 403, "cross_site", "en")
        # Not even with the key itself: a browser's foreign page sent it.
        resp = await http("POST", f"{server.url}/api/workshops/{wid}/keys",
                          headers={"authorization": f"Bearer {fkey}", "origin": origin})
        refused_with(resp, 403, "cross_site")
        resp = await http("POST", f"{server.url}/api/workshops", {
            "title": title, "prompts": ["Vraag?"]}, headers={"origin": origin})
        refused_with(resp, 403, "cross_site")
    # A cookie alone and no Origin: not a browser of today, maybe one of yesterday.
    resp = await http("POST", f"{server.url}/api/workshops/{wid}/keys", headers=cookie)
    refused_with(resp, 403, "cross_site")
    resp = await http("DELETE", f"{server.url}/api/workshops/{wid}", headers=cookie)
    refused_with(resp, 403, "cross_site")
    # Nothing changed: the same keys, the workshop is there, nothing was made.
    meta = await store.meta(wid)
    assert meta["fkey"] == digest(fkey) and meta["vkey"] == digest(w["view_key"])
    assert title not in await titles_stored(store)
    export = await http("GET", f"{server.url}/api/workshops/{wid}/export.json", headers=cookie)
    assert export.status == 200


async def test_own_origin_and_explicit_keys_still_write(server: ServerProcess,
                                                        store: Store) -> None:
    w = await create_workshop(server.url)
    wid, fkey = w["id"], w["facilitator_key"]
    own = {"cookie": f"sf_{wid}={fkey}", "origin": server.origin}
    resp = await http("POST", f"{server.url}/api/workshops/{wid}/keys", headers=own)
    assert resp.status == 200, resp
    fkey = resp.json()["facilitator_key"]
    # Without an Origin, a key given on purpose (Bearer or ?key=) works: no browser adds it.
    resp = await http("POST", f"{server.url}/api/workshops/{wid}/keys",
                      headers={"authorization": f"Bearer {fkey}", "cookie": f"sf_{wid}=x"})
    assert resp.status == 200, resp
    fkey = resp.json()["facilitator_key"]
    resp = await http("POST", f"{server.url}/api/workshops/{wid}/keys?key={fkey}")
    assert resp.status == 200, resp
    fkey = resp.json()["facilitator_key"]
    resp = await http("DELETE", f"{server.url}/api/workshops/{wid}",
                      headers={"cookie": f"sf_{wid}={fkey}", "origin": server.origin})
    assert resp.status == 204, resp
    assert not await store.meta(wid)
    assert not await store.redis.exists(keys.code_key(w["code"]))


async def test_allowed_origins_may_write(with_origins: ServerProcess) -> None:
    w = await create_workshop(with_origins.url)
    for origin in (ALLOWED, PUBLIC):
        resp = await http("POST", f"{with_origins.url}/api/workshops/{w['id']}/keys",
                          headers={"cookie": f"sf_{w['id']}={w['facilitator_key']}",
                                   "origin": origin})
        assert resp.status == 200, (origin, resp)
        w["facilitator_key"] = resp.json()["facilitator_key"]
    resp = await http("POST", f"{with_origins.url}/api/workshops/{w['id']}/keys",
                      headers={"cookie": f"sf_{w['id']}={w['facilitator_key']}",
                               "origin": "https://samenspel.example.nl.evil.example"})
    assert resp.status == 403, resp


async def test_forget_route_follows_the_same_rule(server: ServerProcess) -> None:
    """POST .../forget drops this browser's staff cookies: only for a page of this site."""
    w = await create_workshop(server.url)
    wid = w["id"]
    cookie = {"cookie": f"sf_{wid}={w['facilitator_key']}"}
    for headers in ({**cookie, "origin": "http://evil.example"}, cookie,
                    {**cookie, "origin": server.origin, "content-type": "text/plain"}):
        resp = await http("POST", f"{server.url}/api/workshops/{wid}/forget", headers=headers)
        assert resp.status in (403, 415) and "set-cookie" not in resp.headers, (headers, resp)
    resp = await http("POST", f"{server.url}/api/workshops/{wid}/forget",
                      headers={**cookie, "origin": server.origin})
    assert resp.status == 204, resp
    dropped = resp.headers["set-cookie"]
    assert f"_{wid}=" in dropped and ("max-age=0" in dropped.lower()
                                      or "expires" in dropped.lower()), dropped
    assert (await http("POST", f"{server.url}/api/workshops/a%20b/forget",
                       headers={"origin": server.origin})).status == 404
    # The workshop itself is untouched.
    export = await http("GET", f"{server.url}/api/workshops/{wid}/export.json", headers=cookie)
    assert export.status == 200

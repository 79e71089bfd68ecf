"""Promise: the browser is told to run nothing but our own scripts, and the socket takes no
more than it should (docs/security.md, Browser and Input).

- Every page and API response (pages, redirects, error pages, JSON, exports, the report,
  static files, the QR code, 404s) has a strict Content-Security-Policy: a per-response
  nonce for scripts and no 'unsafe-inline' or 'unsafe-eval', object-src, base-uri and
  frame-ancestors 'none'; and X-Content-Type-Options: nosniff and Referrer-Policy.
- HSTS is sent when the request came over HTTPS (X-Forwarded-Proto from the trusted proxy
  on 127.0.0.1), and the key cookie is Secure then.
- Pages carry no inline event handlers, no javascript: URLs, and no script without the
  response's nonce.
- The WebSocket closes a frame over 16 KiB with 1009 and does not negotiate
  permessage-deflate, even when the client offers it.

Checked on `python -m server` and on the Procfile's uvicorn command line.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.support import (
    CREATED,
    PYTHON,
    ROOT,
    Client,
    HttpResponse,
    ServerProcess,
    close_all,
    create_workshop,
    http,
)

HSTS_MIN = 180 * 24 * 3600


class ProcfileServer(ServerProcess):
    """The Procfile's `web:` command (the uvicorn command line), as a deployment runs it."""

    def command(self) -> list[str]:
        procfile = (ROOT / "Procfile").read_text("utf-8")
        line = next(x for x in procfile.splitlines() if x.startswith("web:"))
        argv = shlex.split(line.split(":", 1)[1].replace("$PORT", str(self.port)))
        assert argv[0] == "uvicorn", argv
        return [PYTHON, "-m", "uvicorn", *argv[1:]]

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start #{self.starts} (Procfile) =====\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command(), cwd=str(ROOT), env=self.env(), stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready(timeout)
        return self


@pytest.fixture(scope="module")
def procfile_server(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    with ProcfileServer(redis_url, logs_dir, name="procfile") as proc:
        yield proc


@pytest.fixture(params=["python -m server", "Procfile"], scope="module")
def any_server(request: pytest.FixtureRequest, server: ServerProcess) -> ServerProcess:
    if request.param == "Procfile":
        proc: ServerProcess = request.getfixturevalue("procfile_server")
        return proc
    return server


# -------------------------------------------------------------------- helpers
def csp_of(resp: HttpResponse) -> dict[str, list[str]]:
    value = resp.headers.get("content-security-policy")
    assert value, f"no CSP on {resp}"
    out: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.split()
        if tokens:
            assert tokens[0].lower() not in out, f"directive twice: {value}"
            out[tokens[0].lower()] = tokens[1:]
    return out


def strict(resp: HttpResponse, what: str) -> str:
    """Check the security headers of one response; returns its script nonce."""
    csp = csp_of(resp)
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts is not None, (what, csp)
    nonces = [s for s in scripts if s.startswith("'nonce-")]
    assert len(nonces) == 1 and len(nonces[0]) >= len("'nonce-'") + 16, (what, scripts)
    for directive, sources in csp.items():
        for bad in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:",
                    "http:", "https:"):
            if directive in ("img-src",) and bad == "data:":
                continue
            assert bad not in sources, (what, directive, sources)
    assert csp.get("object-src") == ["'none'"], (what, csp)
    assert csp.get("base-uri") == ["'none'"], (what, csp)
    assert csp.get("frame-ancestors") == ["'none'"], (what, csp)
    assert "default-src" in csp, (what, csp)
    assert resp.headers.get("x-content-type-options") == "nosniff", (what, resp.headers)
    assert resp.headers.get("referrer-policy") == "no-referrer", (what, resp.headers)
    return nonces[0][len("'nonce-"):-1]


SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*?\son[a-z]+\s*=", re.I | re.S)
JS_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)


def clean_html(resp: HttpResponse, nonce: str, what: str) -> None:
    html = resp.text
    assert "<html" in html, (what, html[:200])
    match = INLINE_HANDLER.search(html)
    assert match is None, (what, html[max(0, match.start() - 80):match.end() + 80])
    assert not JS_URL.search(html), what
    tags = SCRIPT_TAG.findall(html)
    assert tags, what
    for tag in tags:
        assert f'nonce="{nonce}"' in tag, (what, tag)
    # The only script without a src is the page's JSON config (data, not code).
    for m in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.I | re.S):
        attrs, body = m.group(1), m.group(2)
        if body.strip():
            assert 'type="application/json"' in attrs, (what, attrs, body[:100])


async def populated(server: ServerProcess) -> dict[str, Any]:
    """A workshop with notes, a theme and dots, in the results phase."""
    w = await create_workshop(server.url, prompts=["Wat gaat goed?", "Wat kan beter?"],
                              settings={"anonymous": False, "perspectives": ["Bewoner"]})
    fac = Client(server, name="fac")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    phone = Client(server, name="phone")
    await phone.join(w["code"])
    await phone.ok("set_profile", {"name": "Anna", "perspective": "Bewoner"})
    notes = [(await phone.ok("add_note", {"prompt_id": "q1", "text": t}))["result"]["note_id"]
             for t in ("Meer groen", "Bankjes", "Licht")]
    await fac.ok("set_phase", {"phase": "cluster"})
    cluster = (await fac.ok("cluster", {"note_ids": notes[:2], "cluster_id": None,
                                        "title": "Buiten"}))["result"]["cluster_id"]
    await fac.ok("moderate_note", {"note_id": notes[2], "hidden": True})
    await fac.ok("set_phase", {"phase": "vote"})
    await phone.ok("vote", {"item_id": cluster, "delta": 1})
    await fac.ok("set_phase", {"phase": "results"})
    await close_all(fac, phone)
    return w


# ---------------------------------------------------------------------- HTTP
KEEP_NO_COPY = {"control key", "control", "wall key", "wall", "wall by control cookie",
                "report", "report hidden", "export json", "export csv", "export md", "create",
                "rotate"}


async def test_every_response_has_strict_headers_and_pages_have_no_inline_code(
    any_server: ServerProcess,
) -> None:
    s = any_server
    w = await populated(s)
    wid, code, fkey, vkey = w["id"], w["code"], w["facilitator_key"], w["view_key"]
    bearer = {"Authorization": f"Bearer {fkey}"}
    cookie = {"Cookie": f"sf_{wid}={fkey}"}
    wall_cookie = {"Cookie": f"sp_{wid}={vkey}"}
    spare = await create_workshop(s.url)
    doomed = await create_workshop(s.url)

    # (what, method, path, body, headers, expected status, is a page)
    cases: list[tuple[str, str, str, Any, dict[str, str], int, bool]] = [
        ("landing", "GET", "/", None, {}, 200, True),
        ("landing en", "GET", "/?lang=en", None, {}, 200, True),
        ("join form", "GET", "/join", None, {}, 200, True),
        ("join unknown", "GET", "/join?code=abc", None, {}, 404, True),
        ("join redirect", "GET", f"/join?code={code}", None, {}, 303, False),
        ("phone", "GET", f"/j/{code}", None, {}, 200, True),
        ("phone unknown", "GET", "/j/0000000", None, {}, 404, True),
        ("control key", "GET", f"/f/{wid}?key={fkey}", None, {}, 303, False),
        ("control", "GET", f"/f/{wid}", None, cookie, 200, True),
        ("control no key", "GET", f"/f/{wid}", None, {}, 401, True),
        ("control wrong key", "GET", f"/f/{wid}?key=nope", None, {}, 401, True),
        ("wall key", "GET", f"/p/{wid}?key={vkey}", None, {}, 303, False),
        ("wall", "GET", f"/p/{wid}", None, wall_cookie, 200, True),
        ("wall by control cookie", "GET", f"/p/{wid}", None, cookie, 200, True),
        ("report", "GET", f"/f/{wid}/report", None, bearer, 200, True),
        ("report hidden", "GET", f"/f/{wid}/report?hidden=1&lang=en", None, cookie, 200, True),
        ("report no key", "GET", f"/f/{wid}/report", None, {}, 401, False),
        ("export json", "GET", f"/api/workshops/{wid}/export.json", None, bearer, 200, False),
        ("export csv", "GET", f"/api/workshops/{wid}/export.csv?key={fkey}", None, {}, 200,
         False),
        ("export md", "GET", f"/api/workshops/{wid}/export.md", None, cookie, 200, False),
        ("export wrong", "GET", f"/api/workshops/{wid}/export.json", None, {}, 401, False),
        ("qr", "GET", f"/api/workshops/{wid}/qr.svg", None, wall_cookie, 200, False),
        ("qr no key", "GET", f"/api/workshops/{wid}/qr.svg", None, {}, 404, False),
        ("health", "GET", "/healthz", None, {}, 200, False),
        ("static js", "GET", "/static/js/protocol.js", None, {}, 200, False),
        ("static css", "GET", "/static/css/base.css", None, {}, 200, False),
        ("not found", "GET", "/nope", None, {}, 404, False),
        ("create", "POST", "/api/workshops", {"title": "t", "prompts": ["p"]}, {}, 201, False),
        ("create bad", "POST", "/api/workshops", {"title": ""}, {}, 400, False),
        ("rotate", "POST", f"/api/workshops/{spare['id']}/keys", None,
         {"Authorization": f"Bearer {spare['facilitator_key']}"}, 200, False),
        ("erase", "DELETE", f"/api/workshops/{doomed['id']}", None,
         {"Authorization": f"Bearer {doomed['facilitator_key']}"}, 204, False),
        ("erase wrong", "DELETE", f"/api/workshops/{wid}", None, {}, 401, False),
    ]
    nonces: set[str] = set()
    for what, method, path, body, headers, status, page in cases:
        resp = await http(method, s.url + path, body, headers=headers, follow=False)
        assert resp.status == status, (what, resp)
        if what == "create":
            CREATED.append(resp.json()["id"])
        nonce = strict(resp, what)
        assert nonce not in nonces, f"{what}: a nonce used twice"
        nonces.add(nonce)
        assert "strict-transport-security" not in resp.headers, what   # plain HTTP
        if what in KEEP_NO_COPY:
            # Keys or the workshop's content: no browser or proxy cache keeps a copy.
            assert resp.headers.get("cache-control") == "no-store", (what, resp.headers)
        if page:
            assert resp.headers["content-type"].startswith("text/html"), what
            clean_html(resp, nonce, what)


async def test_hsts_and_secure_cookie_over_https(any_server: ServerProcess) -> None:
    s = any_server
    w = await create_workshop(s.url)
    https = {"X-Forwarded-Proto": "https"}
    for path in ("/", f"/j/{w['code']}", "/healthz", "/static/js/protocol.js",
                 f"/f/{w['id']}?key={w['facilitator_key']}"):
        resp = await http("GET", s.url + path, headers=https, follow=False)
        strict(resp, path)
        hsts = resp.headers.get("strict-transport-security", "")
        m = re.search(r"max-age=(\d+)", hsts)
        assert m and int(m.group(1)) >= HSTS_MIN, (path, hsts)
        if "?key=" in path:
            assert resp.status == 303
            assert "secure" in resp.headers["set-cookie"].lower(), resp.headers
            assert "httponly" in resp.headers["set-cookie"].lower(), resp.headers
            assert "samesite=strict" in resp.headers["set-cookie"].lower(), resp.headers
            assert "key=" not in resp.headers["location"], resp.headers


# ----------------------------------------------------------------- WebSocket
async def test_no_permessage_deflate_even_when_offered(any_server: ServerProcess) -> None:
    async with connect(any_server.ws_url, origin=any_server.origin,  # type: ignore[arg-type]
                       proxy=None, compression="deflate", open_timeout=10) as ws:
        assert ws.request is not None and ws.response is not None
        assert "permessage-deflate" in ws.request.headers.get("Sec-WebSocket-Extensions", "")
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None, ws.response.headers
        assert ws.protocol.extensions == []


async def test_frames_over_16_kib_are_closed_with_1009(any_server: ServerProcess) -> None:
    w = await create_workshop(any_server.url)
    head = '{"type":"op","op_id":"edge","op":"add_note","args":{"prompt_id":"q1","text":"'
    tail = '"}}'
    at_limit = head + "y" * (16 * 1024 - len(head) - len(tail)) + tail
    assert len(at_limit.encode()) == 16 * 1024
    c = Client(any_server, name="edge")
    await c.join(w["code"])
    start = len(c.answers)
    await c.send(at_limit)          # exactly 16 KiB is read (and refused for its length)
    await c.wait_for(lambda: len(c.answers) > start, what="answer at the limit")
    assert c.answers[start]["error"]["code"] == "note_too_long"
    await c.send(at_limit.replace('"y', '"yy', 1))   # one byte more
    assert await c.wait_closed(5) == 1009
    await c.drop()


async def test_procfile_server_logs_no_client_address(procfile_server: ServerProcess) -> None:
    """The uvicorn command line logs each WebSocket handshake too: without the address."""
    w = await create_workshop(procfile_server.url)
    c = Client(procfile_server, name="logged")
    await c.connect(additional_headers={"X-Forwarded-For": "203.0.113.41"})
    await c.join(w["code"])
    await c.drop()
    await http("GET", f"{procfile_server.url}/j/{w['code']}",
               headers={"X-Forwarded-For": "203.0.113.41"})
    log = procfile_server.log_text()
    assert '"WebSocket /ws"' in log       # the handshake line is there,
    assert "203.0.113.41" not in log      # without the client's address
    assert not re.search(r"127\.0\.0\.1:\d+ - ", log), log[-2000:]

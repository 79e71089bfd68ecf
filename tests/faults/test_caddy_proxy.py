"""Caddy in front of two processes (docs/deployment.md, docs/deployment/Caddyfile as it is).

Caddy (the `caddy` binary: Debian's package) runs on free ports with its own CA (`tls
internal`) and its data and config in a temporary folder; the test trusts that CA's root
(SSL_CERT_FILE) and talks only https/wss to Caddy. Promises:
- a workshop runs through the proxy: join, notes, votes; the wall sees them; join links
  and the QR code point at the proxy's https address (PUBLIC_URL); the processes see
  the connection as https (HSTS) and the real client's address, not one it made up;
- /metrics is not served through the public name;
- SIGKILL of one process while phones post: their sockets close, they reconnect through
  the same address to the other process (no sticky sessions), and nothing acked is lost
  or doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
from websockets.asyncio.client import connect

from server import keys, ratelimit
from server.store import Store
from tests.faults.helpers import OrderOnlyClient, Outbox, acked, cancel, gather_limited
from tests.faults.test_kill_process import _kill_when
from tests.support import (
    ROOT,
    Client,
    ServerProcess,
    close_all,
    create_workshop,
    free_port,
    http,
    http_sync,
    running,
)

CADDYFILE = ROOT / "docs" / "deployment" / "Caddyfile"
PHONES = 40
NOTES_EACH = 4
FAILURES = 3  # wrong codes per address per minute (the test's last step uses them up)


@dataclass
class Proxy:
    """The public address (for Outbox: it reconnects to `ws_url` while `running`)."""

    url: str
    running: bool = True

    @property
    def ws_url(self) -> str:
        return self.url.replace("https", "wss", 1) + "/ws"

    @property
    def origin(self) -> str:
        return self.url


@pytest.fixture
def caddy_site(tmp_path: Path, redis_url: str, logs_dir: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Proxy, ServerProcess,
                                                                   ServerProcess]]:
    caddy = shutil.which("caddy")
    assert caddy, "install Caddy (Debian: apt-get install caddy; .ci/run does)"
    https_port, http_port = free_port(), free_port()
    public = f"https://localhost:{https_port}"
    env = {"PUBLIC_URL": public, "FORWARDED_ALLOW_IPS": "127.0.0.1",
           "FAILURES_PER_MINUTE": str(FAILURES)}
    a = ServerProcess(redis_url, logs_dir, name="caddy-A", env=env)
    b = ServerProcess(redis_url, logs_dir, name="caddy-B", env=env)
    caddy_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "SAMENSPEL_SITE": f"localhost:{https_port}",
        "SAMENSPEL_TLS": "internal",
        "SAMENSPEL_UPSTREAM_A": f"127.0.0.1:{a.port}",
        "SAMENSPEL_UPSTREAM_B": f"127.0.0.1:{b.port}",
        "CADDY_ADMIN": "off",
        "CADDY_HTTP_PORT": str(http_port),
        "CADDY_HTTPS_PORT": str(https_port),
    }
    log_path = logs_dir / f"caddy-{https_port}.log"
    with running(a, b), log_path.open("wb") as log:
        proc = subprocess.Popen(
            [caddy, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
            cwd=str(tmp_path), env=caddy_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            root = tmp_path / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
            monkeypatch.setenv("SSL_CERT_FILE", str(root))
            _wait_ready(proc, root, public, log_path)
            yield Proxy(public), a, b
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _wait_ready(proc: subprocess.Popen[bytes], root: Path, public: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"caddy exited:\n{log.read_text('utf-8', 'replace')}"
        if root.exists():
            try:
                if http_sync("GET", f"{public}/healthz", timeout=2).status == 200:
                    return
            except OSError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"caddy not ready:\n{log.read_text('utf-8', 'replace')}")


async def test_a_workshop_through_caddy_survives_losing_a_process(
        caddy_site: tuple[Proxy, ServerProcess, ServerProcess], store: Store) -> None:
    proxy, a, b = caddy_site
    rng = random.Random("caddy")
    # Through the proxy everything here comes from 127.0.0.1, whose wrong codes and keys
    # earlier tests of this session counted on purpose (the shared Redis keeps them for a
    # minute); these servers allow only FAILURES, so this test starts from none.
    salt = await store.limit_salt()
    here = ratelimit.subject(ratelimit.network("127.0.0.1"), salt)
    await store.redis.delete(keys.limit_key("fail", here))

    # -- plain HTTPS through the proxy: the app sees https and the join link is public.
    w = await create_workshop(proxy.url, prompts=["Wat gaat goed?", "Wat kan beter?"],
                              settings={"votes_per_participant": 3})
    wall_cookie = {"Cookie": f"sp_{w['id']}={w['view_key']}"}
    page = await http("GET", f"{proxy.url}/p/{w['id']}", headers=wall_cookie)
    assert page.status == 200, page
    assert f"{proxy.url}/join?code={w['code']}" in page.text
    assert page.headers.get("strict-transport-security", "").startswith("max-age=")
    assert (await http("GET", f"{proxy.url}/metrics")).status == 404
    qr = await http("GET", f"{proxy.url}/api/workshops/{w['id']}/qr.svg", headers=wall_cookie)
    assert qr.status == 200 and qr.body.lstrip().startswith(b"<"), qr

    # -- screens and phones, all through the one public address.
    fac = Outbox(Client(proxy.url, name="facilitator"), [proxy])  # type: ignore[list-item]
    await fac.client.staff("facilitator", w["id"], w["facilitator_key"])
    wall = Client(proxy.url, name="wall")
    await wall.staff("projector", w["id"], w["view_key"])
    phones = [OrderOnlyClient(proxy.url, name=f"phone{i}") for i in range(PHONES)]
    await gather_limited([p.join(w["code"]) for p in phones], limit=10)
    outboxes = [Outbox(p, [proxy]) for p in phones]  # type: ignore[list-item]
    first = await outboxes[0].perform("add_note", {"prompt_id": "q1", "text": "Eerste"})
    assert first.acked
    await wall.wait_event("note_added", lambda d: d["note"]["text"] == "Eerste")

    # -- notes under load; A is killed (SIGKILL) once a third is acked.
    async def write(o: Outbox, i: int) -> None:
        for j in range(NOTES_EACH):
            await asyncio.sleep(rng.uniform(0.05, 0.6))
            await o.perform("add_note", {"prompt_id": f"q{1 + j % 2}", "text": f"{i}/{j}"})

    def notes_acked() -> int:
        return len(acked(outboxes, "add_note"))

    record: dict[str, Any] = {}
    killer = asyncio.create_task(_kill_when(a, store, w["id"], notes_acked,
                                            PHONES * NOTES_EACH // 3, outboxes, record))
    started = time.monotonic()
    await asyncio.gather(*(write(o, i) for i, o in enumerate(outboxes)))
    seconds = time.monotonic() - started
    assert killer.done(), "the kill never happened mid-stream"
    await cancel(killer)
    assert not a.running and b.running

    adds = acked(outboxes, "add_note")
    assert len(adds) == PHONES * NOTES_EACH + 1
    moved = [o for o in outboxes if o.reconnects]
    assert moved, "no phone lost its socket: the kill did not hit the stream"

    # -- votes after the kill, through the same address (all on B now).
    phase = await fac.perform("set_phase", {"phase": "vote"})
    assert phase.acked, phase.answers
    note_ids = [s.final["result"]["note_id"] for _, s in adds]
    await asyncio.gather(*(o.perform("vote", {"item_id": note_ids[0], "delta": 1})
                           for o in outboxes))
    votes = acked(outboxes, "vote")
    assert len(votes) == PHONES

    # -- what was stored: every acked note once, with its text; every acked dot.
    room = await store.load(w["id"])
    assert room is not None
    for o, s in adds:
        note = room["notes"].get(s.final["result"]["note_id"])
        assert note is not None, f"acked note lost: {s.op_id}"
        assert note["author_id"] == o.client.pid and note["text"] == s.args["text"]
    assert len(room["notes"]) == len(adds) == len({s.final["result"]["note_id"]
                                                    for _, s in adds})
    assert room["totals"].get(note_ids[0]) == PHONES

    # -- the wall sees them: its socket may have been on A; then it reconnects too.
    if wall.close_code is not None or wall._reader_done():
        await wall.resume()
    results = await fac.perform("set_phase", {"phase": "results"})  # the wall shows dots
    assert results.acked, results.answers
    await wall.wait_seq(results.final["seq"], within=20)
    assert wall.state is not None
    assert {n["id"] for n in wall.state["notes"]} >= set(room["notes"])
    assert wall.state["votes"]["totals"].get(note_ids[0]) == PHONES
    assert wall.violations == [] and all(p.violations == [] for p in phones)

    resent = [s for o in outboxes for s in o.sent if s.lost]
    print(f"\n[caddy] {PHONES} phones through Caddy, {len(adds)} notes in {seconds:.1f}s; "
          f"killed A after {record['acked_before_kill']} acked with "
          f"{record['pending_at_kill']} ops on the wire; {len(moved)} phones reconnected "
          f"through the proxy ({Counter(o.reconnects for o in moved)} reconnects each); "
          f"{len(resent)} ops sent again with the same op_id; none lost, none doubled")
    await close_all(fac.client, wall, *phones)
    await _made_up_addresses_do_not_escape_the_limit(proxy, w["code"])


async def _made_up_addresses_do_not_escape_the_limit(proxy: Proxy, code: str) -> None:
    """The limits see the phone's real address: Caddy puts it in X-Forwarded-For
    (dropping what the client claimed there), and the processes trust that header from
    Caddy (FORWARDED_ALLOW_IPS). Each client here comes from an address of its own on
    the loopback network (127.x.y.z, new each run, so no earlier run's count is met)."""
    wrong = f"{(int(code) + 1) % 10**len(code):0{len(code)}d}"
    here, elsewhere = (f"127.{random.randrange(1, 255)}.{random.randrange(256)}."
                       f"{random.randrange(1, 255)}" for _ in range(2))

    async def hello_from(address: str, claimed: str) -> int | None:
        async with connect(proxy.ws_url, origin=proxy.origin, proxy=None,  # type: ignore[arg-type]
                           family=socket.AF_INET, local_addr=(address, 0),
                           additional_headers={"X-Forwarded-For": claimed}) as ws:
            await ws.send(orjson.dumps({"type": "hello", "role": "participant",
                                        "code": wrong}).decode())
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code

    # Wrong codes from one address, each claiming another: they all count for it.
    closes = [await hello_from(here, f"198.51.100.{i + 1}") for i in range(FAILURES + 1)]
    assert closes[:FAILURES] == [4404] * FAILURES and closes[-1] == 4429, closes
    # Another address is not held back by them (not everyone is "the proxy").
    assert await hello_from(elsewhere, "198.51.100.1") == 4404

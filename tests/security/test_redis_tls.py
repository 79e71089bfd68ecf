"""Promise: the app works with a Redis that speaks only TLS and wants a password, and with
the least-privilege ACL user of docs/security.md (docs/security.md, Redis).

A real redis-server (Debian's, built with TLS) on a TLS port only, with a self-signed
certificate made here by openssl, and requirepass. The ACL line is read from
docs/security.md and run exactly as written (with a fresh password), so the docs cannot
drift from what works.
"""

from __future__ import annotations

import re
import secrets
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support import (
    ROOT,
    Client,
    Refused,
    ServerProcess,
    close_all,
    create_workshop,
    free_port,
    http,
)

REDIS_SERVER = "/usr/bin/redis-server"
DOC = ROOT / "docs" / "security.md"
PLACEHOLDER = "LONG-RANDOM-PASSWORD"

pytestmark = pytest.mark.skipif(not Path(REDIS_SERVER).exists(),
                                reason=f"{REDIS_SERVER} is not installed")


class TlsRedis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.password = secrets.token_urlsafe(24)
        self.cert = folder / "redis.crt"
        self.key = folder / "redis.key"
        self.process: subprocess.Popen[bytes] | None = None

    def make_certificate(self) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("openssl is not installed")
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(self.key), "-out", str(self.cert), "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self.make_certificate()
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", "0", "--tls-port", str(self.port),
             "--bind", "127.0.0.1", "--tls-cert-file", str(self.cert),
             "--tls-key-file", str(self.key), "--tls-ca-cert-file", str(self.cert),
             "--tls-auth-clients", "no", "--requirepass", self.password,
             "--save", "", "--appendonly", "no", "--dir", str(self.folder),
             "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.folder / "redis.log").read_text()
            try:
                with self.admin() as r:
                    if r.ping():
                        return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server with TLS did not answer")

    def url(self, user: str = "", password: str | None = None) -> str:
        return (f"rediss://{user}:{password or self.password}@127.0.0.1:{self.port}/0"
                f"?ssl_ca_certs={self.cert}")

    def admin(self) -> redis.Redis:
        return redis.Redis.from_url(self.url(), decode_responses=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    server = TlsRedis(tmp_path_factory.mktemp("redis-tls"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def documented_acl() -> tuple[list[str], str]:
    """The ACL SETUSER command and the REDIS_URL of docs/security.md, as written."""
    text = DOC.read_text("utf-8")
    m = re.search(r"^ *(ACL SETUSER .*?)(?<!\\)\n", text, re.M | re.S)
    assert m, "docs/security.md has no ACL SETUSER line"
    command = re.sub(r"\\\n\s*", " ", m.group(1))
    url = re.search(r"REDIS_URL=(rediss://\S+?)`", text)
    assert url, "docs/security.md names no rediss:// REDIS_URL"
    return shlex.split(command), url.group(1)


async def full_flow(server: ServerProcess) -> None:
    """Create, join, note, welcome, then everything else the app asks of Redis."""
    w = await create_workshop(server.url, settings={"perspectives": ["Bewoner"]})
    wid, fkey = w["id"], w["facilitator_key"]
    fac = Client(server, name="fac")
    await fac.staff("facilitator", wid, fkey)
    wall = Client(server, name="wall")
    await wall.staff("projector", wid, w["view_key"])
    phone = Client(server, name="phone")
    welcome = await phone.join(w["code"])
    assert welcome["you"]["token"]
    ack = await phone.ok("add_note", {"prompt_id": "q1", "text": "Over TLS"})
    await fac.wait_seq(ack["seq"])
    await wall.wait_seq(ack["seq"])
    with pytest.raises(Refused):       # a wrong key is counted (a rate-limit counter)
        await Client(server, name="typo").staff("facilitator", wid, fkey[::-1])
    late = Client(server, name="late")
    welcome = await late.join(w["code"])
    assert [n["text"] for n in welcome["state"]["notes"]] == ["Over TLS"]
    await phone.ok("set_profile", {"name": "Cor", "perspective": "Bewoner"})
    await phone.refused("vote", {"item_id": ack["result"]["note_id"], "delta": 1})
    await fac.ok("set_phase", {"phase": "vote"})
    await phone.ok("vote", {"item_id": ack["result"]["note_id"], "delta": 1})
    await fac.ok("set_phase", {"phase": "results"})
    await phone.resume()                          # replay from the stream
    await phone.ping()
    await late.drop()
    for fmt in ("json", "csv", "md"):
        resp = await http("GET", f"{server.url}/api/workshops/{wid}/export.{fmt}",
                          headers={"Authorization": f"Bearer {fkey}"})
        assert resp.status == 200 and "Over TLS" in resp.text, (fmt, resp)
    assert (await http("GET", f"{server.url}/healthz")).json() == {"ok": True}
    # Rotating keys and erasing reach the sockets through pub/sub.
    fresh = (await http("POST", f"{server.url}/api/workshops/{wid}/keys",
                        headers={"Authorization": f"Bearer {fkey}"})).json()
    assert await fac.wait_closed(5) == 4401
    resp = await http("DELETE", f"{server.url}/api/workshops/{wid}",
                      headers={"Authorization": f"Bearer {fresh['facilitator_key']}"})
    assert resp.status == 204
    assert await phone.wait_closed(5) == 4410
    await close_all(fac, wall, phone)
    assert "Traceback" not in server.log_text(), server.log_tail(60)
    assert "NOPERM" not in server.log_text(), server.log_tail(60)


async def test_app_over_tls_with_a_password(tls_redis: TlsRedis, logs_dir: Path) -> None:
    with tls_redis.admin() as r:    # the server takes TLS only
        assert r.connection_pool.connection_kwargs.get("ssl_ca_certs") == str(tls_redis.cert)
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=tls_redis.port, password=tls_redis.password,
                    socket_connect_timeout=1, socket_timeout=0.5).ping()
    with ServerProcess(tls_redis.url(), logs_dir, name="redis-tls") as server:
        await full_flow(server)


async def test_documented_least_privilege_user(tls_redis: TlsRedis, logs_dir: Path) -> None:
    argv, doc_url = documented_acl()
    password = secrets.token_urlsafe(32)
    assert any(PLACEHOLDER in a for a in argv), argv
    argv = [a.replace(PLACEHOLDER, password) for a in argv]
    user = argv[2]
    assert doc_url.startswith(f"rediss://{user}:{PLACEHOLDER}@"), doc_url
    with tls_redis.admin() as r:
        r.execute_command(*argv)
    url = tls_redis.url(user, password)
    with ServerProcess(url, logs_dir, name="redis-acl") as server:
        await full_flow(server)
    with tls_redis.admin() as r:    # the rate-limit counters were written, not refused
        assert list(r.scan_iter(match="ws:limit:create:*"))
        assert list(r.scan_iter(match="ws:limit:fail:*"))
    # The user can do what the app needs and nothing that could hurt the rest of Redis.
    with redis.Redis.from_url(url, decode_responses=True) as r:
        r.set("ws:probe", "1", px=1000)
        forbidden: list[tuple[Any, ...]] = [
            ("FLUSHALL",), ("FLUSHDB",), ("KEYS", "*"), ("CONFIG", "GET", "*"),
            ("SHUTDOWN", "NOSAVE"), ("ACL", "LIST"), ("SCAN", "0"), ("EVAL", "return 1", "0"),
            ("SCRIPT", "FLUSH"), ("FUNCTION", "FLUSH"), ("MONITOR",), ("CLIENT", "LIST"),
            ("GET", "other-app:secret"), ("SET", "other-app:x", "1"),
            ("PUBLISH", "other-channel", "x"), ("MODULE", "LIST"), ("REPLICAOF", "NO", "ONE"),
        ]
        for command in forbidden:
            with pytest.raises(redis.exceptions.NoPermissionError):
                r.execute_command(*command)

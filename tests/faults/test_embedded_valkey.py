"""Issue 12, points 7, 8, 10 and 2: the embedded Valkey neither dies for good nor doubles.

Each test runs `python -m server` without REDIS_URL (so with its embedded Valkey) in its
own data folder and does to it what a hostile evening does: kill -9 the app, start a
second app on the same folder, leave a Valkey running on the folder, kill -9 Valkey,
fill its memory. The Valkey is found as the app's child process (psutil), never from a
file the fix writes, so that each test also fails on the code before the fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis

from server.embedded import valkey_binary
from tests.support import Client, ServerProcess, close_all, create_workshop, http
from tests.support.cluster import one_redis_only

# Its own Valkey, one server by nature: nothing to learn from it again on a cluster.
pytestmark = one_redis_only

NOTES = 12


def valkey_child(app: ServerProcess) -> psutil.Process:
    """The app's embedded valkey-server (its child process)."""
    assert app.process is not None
    found = [p for p in psutil.Process(app.process.pid).children(recursive=True)
             if "valkey" in p.name()]
    assert len(found) == 1, found
    return found[0]


def valkeys_on(data: Path) -> list[psutil.Process]:
    """Every live valkey-server working in this data folder (Valkey chdirs to its `dir`)."""
    out = []
    for p in psutil.process_iter(["name", "status"]):
        with contextlib.suppress(psutil.Error):
            if "valkey" in p.info["name"] and p.info["status"] != psutil.STATUS_ZOMBIE \
                    and Path(p.cwd()) == data.resolve():
                out.append(p)
    return out


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def kill_app_only(app: ServerProcess) -> None:
    """kill -9 of the app's own process (not its group): what a crash or an OOM killer does."""
    assert app.process is not None
    os.kill(app.process.pid, signal.SIGKILL)
    app.process.wait(10)


def password(data: Path) -> str:
    return (data / "valkey.password").read_text().strip()


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "data"
    yield folder
    for p in valkeys_on(folder):  # never leave a Valkey behind, whatever failed
        with contextlib.suppress(psutil.Error):
            p.kill()


async def workshop_with_notes(app: ServerProcess, n: int) -> tuple[dict[str, object], list[str]]:
    w = await create_workshop(app.url, "Avond", ["Wat nemen we mee?"])
    phone = Client(app, name="phone")
    await phone.join(str(w["code"]))
    texts = [f"idee {i}" for i in range(n)]
    for text in texts:
        await phone.ok("add_note", {"prompt_id": "q1", "text": text})  # acked = on disk
    await close_all(phone)
    return w, texts


async def note_texts(app: ServerProcess, w: dict[str, object]) -> list[str]:
    """Every note of the workshop, as its export has them."""
    resp = await http("GET", f"{app.url}/api/workshops/{w['id']}/export.json"
                             f"?key={w['facilitator_key']}")
    assert resp.status == 200, resp
    return sorted(n["text"] for n in resp.json()["notes"])


async def test_valkey_dies_with_the_app(data: Path, logs_dir: Path) -> None:
    app = ServerProcess(None, logs_dir, name="pdeathsig", data_dir=data)
    app.start()
    try:
        valkey = valkey_child(app)
        kill_app_only(app)
        deadline = time.monotonic() + 10
        while not gone(valkey.pid):
            assert time.monotonic() < deadline, "the embedded Valkey outlived its app"
            await asyncio.sleep(0.05)
    finally:
        app.reap()


async def test_second_app_on_the_same_data_folder_is_refused(data: Path,
                                                             logs_dir: Path) -> None:
    first = ServerProcess(None, logs_dir, name="first", data_dir=data)
    second = ServerProcess(None, logs_dir, name="second", data_dir=data)
    first.start()
    try:
        w, texts = await workshop_with_notes(first, 3)
        with pytest.raises(RuntimeError) as refused:
            second.start(timeout=20)
        assert "draait al" in str(refused.value) and "already running" in str(refused.value)
        assert second.process is not None and second.process.returncode == 3
        assert len(valkeys_on(data)) == 1  # never two writers
        # The first one is unaffected.
        assert (await http("GET", f"{first.url}/healthz")).status == 200
        assert await note_texts(first, w) == sorted(texts)
    finally:
        second.stop()
        second.reap()
        first.stop()
        first.reap()


@pytest.mark.parametrize("pid_file", [True, False], ids=["pid-file", "no-pid-file"])
async def test_a_valkey_left_on_the_folder_is_taken_over_and_no_acked_note_is_lost(
        data: Path, logs_dir: Path, tmp_path: Path, pid_file: bool) -> None:
    app = ServerProcess(None, logs_dir, name="orphan", data_dir=data)
    app.start()
    orphan: subprocess.Popen[bytes] | None = None
    try:
        w, texts = await workshop_with_notes(app, NOTES)
        kill_app_only(app)  # the evening: twelve acked notes, then kill -9
        deadline = time.monotonic() + 10
        while valkeys_on(data):  # (its own Valkey follows it: see the first test)
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        # A Valkey left running on the folder: as the app's Valkey was after a kill -9
        # before PDEATHSIG, or one started by hand from the folder's config; without a pid
        # file, as one left by an older version of the app.
        conf = data / "valkey.conf"
        if not pid_file:
            lines = conf.read_text().splitlines()
            conf = tmp_path / "old-valkey.conf"
            conf.write_text("\n".join(x for x in lines if not x.startswith("pidfile")) + "\n")
        orphan = subprocess.Popen(  # noqa: ASYNC220 - returns at once
            [valkey_binary(), str(conf)], cwd=data, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert len(valkeys_on(data)) == 1
        app.start()
        # The orphan was stopped before the new Valkey started: one writer on the files.
        deadline = time.monotonic() + 10
        while not gone(orphan.pid):
            assert time.monotonic() < deadline, "a second Valkey writes the same files"
            await asyncio.sleep(0.05)
        assert [p.pid for p in valkeys_on(data)] == [valkey_child(app).pid]
        assert await note_texts(app, w) == sorted(texts)
        # ... and after one more restart (the AOF itself is whole), all twelve still.
        app.restart()
        assert await note_texts(app, w) == sorted(texts)
    finally:
        if orphan is not None and orphan.poll() is None:
            orphan.kill()
        if orphan is not None:
            orphan.wait(10)
        app.stop()
        app.reap()


async def test_a_killed_valkey_is_restarted_with_its_data(data: Path, logs_dir: Path) -> None:
    app = ServerProcess(None, logs_dir, name="respawn", data_dir=data)
    app.start()
    try:
        w, texts = await workshop_with_notes(app, NOTES)
        # Several pooled connections to this Valkey: after its restart each is dead, and
        # a page must not be the one to find out (each export below must answer 200).
        await asyncio.gather(*(note_texts(app, w) for _ in range(12)))
        first = valkey_child(app)
        first.kill()  # kill -9 of Valkey only; the app lives on
        phone = Client(app, name="phone-after")
        # The phone tries as a phone does: again after `try_again` or a refused hello.
        deadline = time.monotonic() + 20
        while True:
            try:
                await phone.join(str(w["code"]))
                answer = await phone.op("add_note", {"prompt_id": "q1", "text": "weer daar"})
                if answer["type"] == "ack":
                    break
                assert answer["error"]["code"] == "try_again", answer
            except Exception:  # refused while Valkey restarts
                await close_all(phone)
                phone = Client(app, name="phone-after")
            assert time.monotonic() < deadline, "Valkey was not brought back"
            await asyncio.sleep(0.2)
        await close_all(phone)
        assert valkey_child(app).pid != first.pid
        for got in await asyncio.gather(*(note_texts(app, w) for _ in range(12))):
            assert got == sorted([*texts, "weer daar"])
        assert (await http("GET", f"{app.url}/healthz")).status == 200
        assert "embedded Valkey is back" in app.log_text()
        assert "Traceback" not in app.log_text(), app.log_tail()
    finally:
        app.stop()
        app.reap()


async def test_valkey_has_a_password_kept_private(data: Path, logs_dir: Path) -> None:
    app = ServerProcess(None, logs_dir, name="password", data_dir=data)
    app.start()
    try:
        port = next(c.laddr.port for c in valkey_child(app).net_connections("tcp")
                    if c.status == psutil.CONN_LISTEN)
        anyone = redis.Redis(port=port, socket_timeout=2)
        with pytest.raises(redis.AuthenticationError):  # NOAUTH
            anyone.get("x")
        anyone.close()
        secret = password(data)
        assert stat.S_IMODE((data / "valkey.password").stat().st_mode) == 0o600
        assert stat.S_IMODE((data / "valkey.conf").stat().st_mode) == 0o600
        owner = redis.Redis(port=port, password=secret, socket_timeout=2)
        assert owner.ping()
        owner.close()
        await workshop_with_notes(app, 1)
        app.restart()  # the same password again: the app still reaches its data
        assert password(data) == secret
        assert secret not in app.log_text()
        assert secret not in (data / "valkey.log").read_text(errors="replace")
    finally:
        app.stop()
        app.reap()


async def test_a_full_store_answers_try_again_and_loses_nothing(data: Path,
                                                                 logs_dir: Path) -> None:
    app = ServerProcess(None, logs_dir, name="full", data_dir=data,
                        env={"VALKEY_MAXMEMORY": "64mb"})
    app.start()
    try:
        port = next(c.laddr.port for c in valkey_child(app).net_connections("tcp")
                    if c.status == psutil.CONN_LISTEN)
        admin = redis.Redis(port=port, password=password(data), decode_responses=True)
        assert admin.config_get("maxmemory")["maxmemory"] == str(64 * 1024 * 1024)
        assert admin.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        w = await create_workshop(app.url, "Vol", ["Wat nemen we mee?"])
        phone = Client(app, name="phone")
        await phone.join(str(w["code"]))
        wall = Client(app, name="wall")
        await wall.staff("projector", str(w["id"]), str(w["view_key"]))
        await phone.ok("add_note", {"prompt_id": "q1", "text": "past nog"})
        events_key = next(k for k in admin.scan_iter("*events*") if str(w["id"]) in k)
        before = admin.xlen(events_key)

        admin.config_set("maxmemory", "1")  # full: every write is refused (OOM)
        started = time.monotonic()
        answer = await phone.op("add_note", {"prompt_id": "q1", "text": "past niet"})
        assert answer["type"] == "nack" and answer["error"]["code"] == "try_again", answer
        assert time.monotonic() - started < 2.0
        # The screens are told, the wall too: nothing can be saved now.
        await wall.wait_for(lambda: {"type": "status", "store": "down"} in wall.frames, 5)
        assert admin.xlen(events_key) == before  # nothing half-written
        resp = await http("POST", f"{app.url}/api/workshops",
                          {"title": "Nog een", "prompts": ["Vraag?"]})
        assert resp.status == 503 and resp.json()["error"]["code"] == "try_again", resp

        admin.config_set("maxmemory", "64mb")
        await phone.ok("add_note", {"prompt_id": "q1", "text": "past weer"})
        await wall.wait_for(lambda: {"type": "status", "store": "ok"} in wall.frames, 5)
        await close_all(phone, wall)
        assert await note_texts(app, w) == ["past nog", "past weer"]
        admin.close()
        assert "Traceback" not in app.log_text()
    finally:
        app.stop()
        app.reap()

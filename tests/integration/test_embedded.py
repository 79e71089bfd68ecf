"""Acceptance 7 (part): `python -m server` without REDIS_URL runs on its embedded Valkey,
with its data on disk in DATA_DIR, so a workshop outlives a restart of the whole app."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from tests.support import Client, ServerProcess, close_all, create_workshop, http
from tests.support.cluster import one_redis_only

# Its own Valkey, one server by nature: nothing to learn from it again on a cluster.
pytestmark = one_redis_only


async def test_embedded_valkey_keeps_workshops_across_restarts(tmp_path: Path,
                                                               logs_dir: Path) -> None:
    data = tmp_path / "data"
    app = ServerProcess(None, logs_dir, name="embedded", data_dir=data)
    assert "REDIS_URL" not in app.env()
    app.start()
    try:
        health = await http("GET", f"{app.url}/healthz")
        assert health.status == 200 and health.json() == {"ok": True}
        assert "Embedded Valkey" in app.log_text()
        assert any(data.rglob("*.aof")), list(data.rglob("*"))  # append-only file on disk

        w = await create_workshop(app.url, "Op de laptop", ["Wat nemen we mee?"])
        fac = Client(app, name="facilitator")
        await fac.staff("facilitator", w["id"], w["facilitator_key"])
        phone = Client(app, name="phone")
        await phone.join(w["code"])
        note = await phone.ok("add_note", {"prompt_id": "q1", "text": "bewaard op schijf"})
        await fac.ok("moderate_note", {"note_id": note["result"]["note_id"], "hidden": False})
        await close_all(fac, phone)

        valkey_port = embedded_port(app)
        app.stop()     # SIGTERM, as a supervisor or a deploy sends it
        assert not app.running
        # The embedded Valkey went down with the app (a second one on the same files
        # would corrupt them): nothing answers on its port now.
        assert not answers(valkey_port)
        app.start()
        health = await http("GET", f"{app.url}/healthz")
        assert health.status == 200

        again = Client(app, name="facilitator-again")
        welcome = await again.staff("facilitator", w["id"], w["facilitator_key"])
        state = welcome["state"]
        assert state["workshop"]["title"] == "Op de laptop"
        assert [n["text"] for n in state["notes"]] == ["bewaard op schijf"]
        assert welcome["seq"] == note["seq"] + 1
        back = Client(app, name="phone-again")
        await back.join(w["code"], token=phone.token)
        assert back.pid == phone.pid
        wall = Client(app, name="projector")
        await wall.staff("projector", w["id"], w["view_key"])
        export = await http("GET", f"{app.url}/api/workshops/{w['id']}/export.json"
                                   f"?key={w['facilitator_key']}")
        assert export.status == 200
        assert [n["text"] for n in export.json()["notes"]] == ["bewaard op schijf"]
        await close_all(again, back, wall)
        last_port = embedded_port(app)
        app.stop()
        assert not answers(last_port)
    finally:
        app.stop()
        app.reap()


def embedded_port(app: ServerProcess) -> int:
    """The port of the embedded Valkey that the app's latest start printed."""
    found = re.findall(r"Embedded Valkey on redis://127\.0\.0\.1:(\d+)", app.log_text())
    assert found, app.log_tail()
    return int(found[-1])


def answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0

"""Issue 12, point 8: a frozen store (Valkey stopped with SIGSTOP: alive, silent).

Nothing may hang on it: /healthz says 503 within 1 s, an op gets `try_again` within 2 s,
the pages and the export answer the app's own calm "even geduld" page with 503 (in the
visitor's language) and no traceback lands in the log, and every screen, the wall too,
is told that nothing can be saved now. SIGCONT: all is well again, nothing lost.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from tests.faults.test_embedded_valkey import note_texts, valkey_child
from tests.support import Client, ServerProcess, close_all, create_workshop, http
from tests.support.cluster import one_redis_only

# Its own Valkey, one server by nature: nothing to learn from it again on a cluster.
pytestmark = one_redis_only


async def test_a_frozen_store_gets_calm_answers_in_time(tmp_path: Path, logs_dir: Path) -> None:
    app = ServerProcess(None, logs_dir, name="frozen", data_dir=tmp_path / "data")
    app.start()
    frozen = 0
    try:
        w = await create_workshop(app.url, "Bevroren", ["Wat nemen we mee?"])
        phone = Client(app, name="phone")
        await phone.join(w["code"])
        wall = Client(app, name="wall")
        await wall.staff("projector", w["id"], w["view_key"])
        await phone.ok("add_note", {"prompt_id": "q1", "text": "voor"})

        frozen = valkey_child(app).pid
        os.kill(frozen, signal.SIGSTOP)

        started = time.monotonic()
        health = await http("GET", f"{app.url}/healthz", timeout=5)
        assert health.status == 503 and time.monotonic() - started < 1.0, health

        started = time.monotonic()
        answer = await phone.op("add_note", {"prompt_id": "q1", "text": "tijdens"})
        assert answer["type"] == "nack" and answer["error"]["code"] == "try_again", answer
        assert time.monotonic() - started < 2.0

        # The wall has no ops of its own: it is told.
        await wall.wait_for(lambda: {"type": "status", "store": "down"} in wall.frames, 5)

        key = w["facilitator_key"]
        for path, lang, words in [
            (f"/f/{w['id']}?key={key}", "nl", "Even geduld"),
            (f"/p/{w['id']}?key={w['view_key']}", "en", "One moment"),
            (f"/j/{w['code']}", "nl", "Even geduld"),
            (f"/api/workshops/{w['id']}/export.csv?key={key}", "en", "One moment"),
            (f"/f/{w['id']}/report?key={key}", "nl", "Even geduld"),
        ]:
            started = time.monotonic()
            page = await http("GET", f"{app.url}{path}", headers={"accept-language": lang},
                              follow=False, timeout=10)
            assert page.status == 503, (path, page)
            assert time.monotonic() - started < 2.5, path
            assert words in page.text and f'<html lang="{lang}">' in page.text, path
            assert page.headers.get("retry-after") == "10", path

        os.kill(frozen, signal.SIGCONT)
        frozen = 0
        deadline = time.monotonic() + 10
        while (await http("GET", f"{app.url}/healthz")).status != 200:
            assert time.monotonic() < deadline
        await phone.ok("add_note", {"prompt_id": "q1", "text": "na"})
        await wall.wait_for(lambda: {"type": "status", "store": "ok"} in wall.frames, 5)
        page = await http("GET", f"{app.url}/j/{w['code']}")
        assert page.status == 200
        await close_all(phone, wall)
        assert await note_texts(app, w) == ["na", "voor"]
        assert "Traceback" not in app.log_text()
    finally:
        if frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(frozen, signal.SIGCONT)
        app.stop()
        app.reap()

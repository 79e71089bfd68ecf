"""LOG_FORMAT=json (docs/operations.md, "Logs"): every line the server writes, on stderr
and stdout alike, is one JSON object with `ts`, `level` and `msg`; uvicorn's own lines
(start, WebSocket handshakes, shutdown) included; and, as in the plain logs
(tests/security/test_keys.py), no key, token, join code or client address in them.
Checked on `python -m server` and on the Procfile's uvicorn command line."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import connect

from tests.security.test_headers import ProcfileServer
from tests.support import Client, ServerProcess, close_all, create_workshop, http

TOKEN = "json-logs-metrics-token-4c1d"  # noqa: S105 (a test's token)
CLIENT_ADDRESS = "203.0.113.77"  # given by the trusted proxy (X-Forwarded-For)


@pytest.mark.parametrize("command", ["python -m server", "Procfile"])
async def test_every_line_is_json_without_secrets(redis_url: str, logs_dir: Path,
                                                  command: str) -> None:
    kind = ProcfileServer if command == "Procfile" else ServerProcess
    proc = kind(redis_url, logs_dir, name=f"json-logs-{command.split()[0]}",
                env={"LOG_FORMAT": "json", "METRICS_TOKEN": TOKEN})
    proc.start()
    try:
        w = await create_workshop(proc.url)
        forwarded = {"X-Forwarded-For": CLIENT_ADDRESS}
        # A key in a query string (uvicorn logs the handshake's path).
        async with connect(f"{proc.ws_url}?key={w['facilitator_key']}&code={w['code']}",
                           origin=proc.origin, additional_headers=forwarded,
                           proxy=None) as ws:  # type: ignore[arg-type]
            await ws.send(orjson.dumps({"type": "hello", "role": "facilitator",
                                        "workshop": w["id"],
                                        "key": w["facilitator_key"]}).decode())
            assert orjson.loads(await ws.recv())["type"] == "welcome"
        phone = Client(proc, name="phone")
        await phone.join(w["code"])
        await phone.ok("add_note", {"prompt_id": "q1", "text": "Een boom op het plein"})
        await close_all(phone)
        # A scraper without the token: a warning of the app's own.
        resp = await http("GET", f"{proc.url}/metrics?token={TOKEN}",
                          headers={"authorization": "Bearer wrong", **forwarded})
        assert resp.status == 404
    finally:
        proc.stop()
        proc.reap()

    lines = [x for x in proc.log_text().splitlines() if x and not x.startswith("===== start")]
    records: list[dict[str, Any]] = []
    for line in lines:
        record = orjson.loads(line)  # every line: JSON
        assert isinstance(record, dict), line
        assert {"ts", "level", "msg"} <= set(record), line
        datetime.fromisoformat(record["ts"])
        assert record["level"] in ("debug", "info", "warning", "error", "critical"), line
        records.append(record)
    messages = [r["msg"] for r in records]
    by_logger = {r.get("logger") for r in records}

    # uvicorn's own lines, as JSON.
    assert "uvicorn.error" in by_logger, messages
    assert any(m.startswith("Started server process") for m in messages), messages
    assert any("WebSocket /ws" in m for m in messages), messages
    assert any(m.startswith("Finished server process") for m in messages), messages
    # The app's own (where to open it: `python -m server` says so, uvicorn's CLI not).
    if command == "python -m server":
        assert any(m.startswith("Samenspel: open") for m in messages), messages
    assert any("GET /metrics refused" in m for m in messages), messages

    # No key, token, code or client address anywhere.
    text = "\n".join(lines)
    for secret in (w["facilitator_key"], w["view_key"], w["join_secret"], TOKEN,
                   phone.token or "-", CLIENT_ADDRESS):
        assert secret not in text, secret
    assert not re.search(rf"(?<!\d){w['code']}(?!\d)", text)
    for port in re.findall(r"127\.0\.0\.1:(\d+)", text):
        assert int(port) == proc.port, f"a client's address in the log: 127.0.0.1:{port}"

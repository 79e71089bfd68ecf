"""GET /metrics (docs/protocol.md, "HTTP"; docs/operations.md): only with METRICS_TOKEN
set and only to its Bearer token (404 otherwise); the Prometheus text format, read here
with prometheus-client's own parser; the figures move with what the screens do; no
workshop id, code, key, text or address in any label."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.embedded import EmbeddedValkey
from tests.support import Client, ServerProcess, close_all, create_workshop, http
from tests.support.metrics import TOKEN, scrape, total, value

NOTE_TEXT = "Geheime tekst over de Meidoornstraat"
PHONES = 3


@pytest.fixture(scope="module")
def metered(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    with ServerProcess(redis_url, logs_dir, name="metrics",
                       env={"METRICS_TOKEN": TOKEN}) as proc:
        yield proc


async def test_no_metrics_without_a_token_set(server: ServerProcess) -> None:
    for headers in ({}, {"authorization": f"Bearer {TOKEN}"}):
        resp = await http("GET", f"{server.url}/metrics", headers=headers)
        assert resp.status == 404, resp
        assert b"samenspel_" not in resp.body


@pytest.mark.parametrize("authorization", [
    None, "", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer", f"Basic {TOKEN}", TOKEN,
])
async def test_a_wrong_or_missing_token_is_refused(metered: ServerProcess,
                                                   authorization: str | None) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    resp = await http("GET", f"{metered.url}/metrics", headers=headers)
    assert resp.status == 404, resp
    assert b"samenspel_" not in resp.body
    # The operator learns why from the log, without the token in it.
    assert "GET /metrics refused" in metered.log_text()
    assert TOKEN not in metered.log_text()


async def test_figures_move_with_the_workshop(metered: ServerProcess) -> None:
    _, before = await scrape(metered)
    w = await create_workshop(metered.url, prompts=["Wat gaat goed?"])
    fac = Client(metered, name="facilitator")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    wall = Client(metered, name="wall")
    await wall.staff("projector", w["id"], w["view_key"])
    phones = [Client(metered, name=f"phone{i}") for i in range(PHONES)]
    for phone in phones:
        await phone.join(w["code"])
    note_ids = []
    for i, phone in enumerate(phones):
        ack = await phone.ok("add_note", {"prompt_id": "q1", "text": f"{NOTE_TEXT} {i}"})
        note_ids.append(ack["result"]["note_id"])
    await phones[0].refused("add_note", {"prompt_id": "q1", "text": "   "})  # note_empty
    await phones[0].refused("set_phase", {"phase": "vote"})                  # not_allowed
    done = await fac.ok("set_phase", {"phase": "vote"})
    for phone in phones:
        await phone.ok("vote", {"item_id": note_ids[0], "delta": 1})
    await wall.wait_seq(done["seq"] + PHONES)
    for phone in phones:
        await phone.wait_seq(done["seq"] + PHONES, within=10)

    # A flood: frames past the burst get `too_fast`.
    flood = phones[1]
    before_flood = len(flood.answers)
    for _ in range(90):
        await flood.send({"type": "op", "op_id": flood.new_op_id(), "op": "vote",
                          "args": {"item_id": note_ids[1], "delta": 0}})
    await flood.wait_for(lambda: len(flood.answers) >= before_flood + 90, within=10)

    text, after = await scrape(metered)
    try:
        sockets = {role: value(after, "samenspel_connections", role=role)
                   for role in ("facilitator", "projector", "participant")}
        assert sockets == {"facilitator": 1, "projector": 1, "participant": PHONES}
        assert value(after, "samenspel_workshops_open") >= 1

        def moved(name: str, **labels: str) -> float:
            return total(after, name, **labels) - total(before, name, **labels)

        assert moved("samenspel_ops_total", op="add_note", result="ok") == PHONES
        assert moved("samenspel_ops_total", op="add_note", result="note_empty") == 1
        assert moved("samenspel_ops_total", op="set_phase", result="not_allowed") == 1
        assert moved("samenspel_ops_total", op="set_phase", result="ok") == 1
        assert moved("samenspel_ops_total", op="vote", result="ok") >= PHONES
        assert moved("samenspel_op_seconds_count", op="add_note") >= PHONES
        assert moved("samenspel_op_seconds_bucket", op="add_note", le="+Inf") >= PHONES
        assert moved("samenspel_fanout_seconds_count", audience="staff") >= 1
        assert moved("samenspel_fanout_seconds_count", audience="phones") >= 1
        assert moved("samenspel_rate_limited_total", limit="ops") >= 20
        assert total(after, "samenspel_phone_window_seconds_count") >= 1
        # Shown from the start (at 0 here: the store is up, no stream was trimmed).
        for kind in ("read", "write"):
            assert ("samenspel_redis_errors_total", (("kind", kind),)) in after
        for reason in ("too_slow", "trimmed", "fanout_error"):
            assert ("samenspel_resyncs_total", (("reason", reason),)) in after

        # No workshop id, code, key, note text or address in any label (of any metric).
        secrets = [w["id"], w["code"], w["facilitator_key"], w["view_key"], NOTE_TEXT,
                   "127.0.0.1", *note_ids, *(p.pid or "" for p in phones)]
        for (_, labels), _v in after.items():
            for _, label_value in labels:
                for secret in secrets:
                    assert secret not in label_value, (secret, labels)
        for secret in secrets:
            assert secret not in text
        # Every label of ours from a small fixed set.
        allowed = {"role": {"facilitator", "projector", "participant"},
                   "audience": {"staff", "phones"}, "kind": {"read", "write"},
                   "reason": {"too_slow", "trimmed", "fanout_error", "other"},
                   "limit": {"ops", "attempts", "creates", "joins", "other"}}
        for (name, labels), _v in after.items():
            if name.startswith("samenspel_"):
                for key, label_value in labels:
                    if key in allowed:
                        assert label_value in allowed[key], (name, key, label_value)
    finally:
        await close_all(fac, wall, *phones)


async def test_unknown_op_names_do_not_become_labels(metered: ServerProcess) -> None:
    w = await create_workshop(metered.url)
    phone = Client(metered, name="phone")
    await phone.join(w["code"])
    odd = f"op-{w['code']}-{w['id']}"
    try:
        answer: dict[str, Any] = await phone.refused(odd, {})
        assert answer["code"] == "unknown_op"
        text, after = await scrape(metered)
        assert odd not in text
        assert value(after, "samenspel_ops_total", op="other", result="unknown_op") >= 1
    finally:
        await close_all(phone)


async def test_store_errors_are_counted_and_metrics_still_served(
        tmp_path: Path, logs_dir: Path) -> None:
    """A Redis of its own, stopped under a connected phone: /metrics (which needs no
    Redis) still answers and counts the failed read and write, and the op's try_again."""
    valkey = EmbeddedValkey(tmp_path / "valkey", persist=False)
    valkey.start()
    proc = ServerProcess(valkey.url, logs_dir, name="metrics-store-down",
                         env={"METRICS_TOKEN": TOKEN})
    phone: Client | None = None
    try:
        proc.start()
        w = await create_workshop(proc.url)
        phone = Client(proc, name="phone")
        await phone.join(w["code"])
        _, before = await scrape(proc)
        valkey.stop()
        answer = await phone.op("add_note", {"prompt_id": "q1", "text": "tijdens de storing"})
        assert answer["type"] == "nack" and answer["error"]["code"] == "try_again", answer
        deadline = time.monotonic() + 15
        while True:
            _, after = await scrape(proc)
            if value(after, "samenspel_redis_errors_total", kind="read") > value(
                    before, "samenspel_redis_errors_total", kind="read"):
                break
            assert time.monotonic() < deadline, "no failed read counted"
            await asyncio.sleep(0.2)
        assert value(after, "samenspel_redis_errors_total", kind="write") > value(
            before, "samenspel_redis_errors_total", kind="write")
        assert value(after, "samenspel_ops_total", op="add_note", result="try_again") == 1
    finally:
        if phone is not None:
            await close_all(phone)
        proc.stop()
        proc.reap()
        valkey.stop()

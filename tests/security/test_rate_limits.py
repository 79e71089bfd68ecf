"""Promise: abuse is limited without locking out a hall that shares one address
(docs/security.md, Abuse).

One server on a private Valkey (rate-limit counters live in Redis; a private one starts
at zero), with the default FAILURES_PER_MINUTE=20 and CREATES_PER_HOUR=5. Each test
speaks for its own client address through X-Forwarded-For, which the server trusts from
127.0.0.1 (FORWARDED_ALLOW_IPS, set by tests/support.py), so the tests do not share counters.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from server.embedded import EmbeddedValkey
from tests.support import Client, Refused, ServerProcess, close_all, http

FAILURES_PER_MINUTE = 20
CREATES_PER_HOUR = 5


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, logs_dir: Path) -> Iterator[ServerProcess]:
    valkey = EmbeddedValkey(tmp_path_factory.mktemp("valkey-limits"))
    valkey.start()
    try:
        env = {"FAILURES_PER_MINUTE": str(FAILURES_PER_MINUTE),
               "CREATES_PER_HOUR": str(CREATES_PER_HOUR)}
        with ServerProcess(valkey.url, logs_dir, name="limits", env=env) as proc:
            yield proc
    finally:
        valkey.stop()


_ADDRESSES = itertools.count(1)


def address() -> str:
    """A client address of its own (TEST-NET-2)."""
    return f"198.51.100.{next(_ADDRESSES)}"


def from_(addr: str) -> dict[str, str]:
    return {"X-Forwarded-For": addr}


async def client(server: ServerProcess, addr: str, name: str) -> Client:
    c = Client(server, name=name)
    await c.connect(additional_headers=from_(addr))
    return c


async def create(server: ServerProcess, addr: str) -> dict[str, Any]:
    resp = await http("POST", f"{server.url}/api/workshops",
                      {"title": "Limieten", "prompts": ["Wat vindt u?"]}, headers=from_(addr))
    assert resp.status == 201, resp
    created: dict[str, Any] = resp.json()
    return created


# -------------------------------------------------------------------- flooding
async def test_flood_is_closed_with_4429_and_others_are_served(limited: ServerProcess) -> None:
    addr = address()
    w = await create(limited, addr)
    fac = await client(limited, addr, "facilitator")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    # Other phones of the same hall: five, as op limits count per participant.
    others = [await client(limited, addr, f"other{i}") for i in range(5)]
    for other in others:
        await other.join(w["code"])
    flooder = await client(limited, addr, "flooder")
    await flooder.join(w["code"])
    assert flooder.ws is not None

    async def flood() -> tuple[int | None, float]:
        """1,000 frames a second (10 every 10 ms) until the server says it closes the socket:
        returns its close code and how long the flood ran."""
        assert flooder.ws is not None
        start = time.monotonic()
        sent = 0
        while time.monotonic() - start < 15 and flooder.ws.protocol.close_rcvd is None:
            try:
                for _ in range(10):
                    sent += 1
                    await flooder.ws.send(orjson.dumps({
                        "type": "op", "op_id": f"f{sent}", "op": "add_note",
                        "args": {"prompt_id": "q1", "text": f"spam {sent}"}}).decode())
            except Exception:  # closed by the server
                break
            await asyncio.sleep(0.01)
        took = time.monotonic() - start
        closing = flooder.ws.protocol.close_rcvd
        if closing is None:   # the socket went down without a close frame
            return await flooder.wait_closed(5), took
        return closing.code, took

    async def normal_use() -> list[float]:
        """Other phones of the same hall post a note every 100 ms during the flood."""
        latencies = []
        for i in range(25):
            t0 = time.monotonic()
            await others[i % 5].ok("add_note", {"prompt_id": "q1", "text": f"gewoon {i}"},
                                   within=5)
            latencies.append(time.monotonic() - t0)
            await asyncio.sleep(0.1)
        return latencies

    (code, took), latencies = await asyncio.gather(flood(), normal_use())
    assert code == 4429, (code, flooder.errors[-1:])
    await flooder.wait_for(lambda: bool(flooder.errors), 5, allow_closed=True)
    assert flooder.errors and flooder.errors[-1]["error"]["code"] == "too_fast"
    assert took < 5, f"the flood ran {took:.1f}s before it was cut off"
    # Acked within normal time, all through the flood.
    assert max(latencies) < 1.0 and statistics.median(latencies) < 0.25, latencies
    assert [a["error"]["code"] for a in flooder.answers if a["type"] == "nack"].count(
        "too_fast") > 0
    for other in others:
        await other.ping()
        assert other.close_code is None
    await fac.ping()
    assert fac.close_code is None
    # The flooder may come back (its token is good) and behave: once its note budget
    # has refilled (the nack says when), its note is taken.
    back = await client(limited, addr, "flooder-again")
    await back.join(w["code"], token=flooder.token)
    answer = await back.op("add_note", {"prompt_id": "q1", "text": "sorry"})
    if answer["type"] == "nack":
        assert answer["error"]["code"] == "too_fast" and answer["error"]["retry_ms"] <= 3000
        await asyncio.sleep(answer["error"]["retry_ms"] / 1000)
        await back.ok("add_note", {"prompt_id": "q1", "text": "sorry"})
    await close_all(fac, *others, back)
    assert "Traceback" not in limited.log_text()


async def test_a_burst_is_nacked_too_fast_not_closed(limited: ServerProcess) -> None:
    """A phone that comes back online sends its whole outbox at once: what is over the
    budget is nacked (to be sent again), and the socket stays open. (150 notes: more than
    a participant's burst of 20 notes, tests/security/test_op_limits.py.)"""
    addr = address()
    w = await create(limited, addr)
    phone = await client(limited, addr, "outbox")
    await phone.join(w["code"])
    answers = await asyncio.gather(*(
        phone.op("add_note", {"prompt_id": "q1", "text": f"offline {i}"}) for i in range(150)))
    codes = [a["error"]["code"] if a["type"] == "nack" else "ack" for a in answers]
    assert set(codes) == {"ack", "too_fast"}, codes
    assert codes.count("ack") >= 20, codes
    await asyncio.sleep(0.2)     # a few frames of budget again
    await phone.ping()
    assert phone.close_code is None
    await phone.drop()


# -------------------------------------------------------------- failed joins
def wrong_code(right: str) -> str:
    code = right
    while code == right:
        code = f"{secrets.randbelow(1_000_000):06d}"
    return code


async def test_wrong_join_codes_are_limited_but_tokens_and_keys_still_work(
    limited: ServerProcess,
) -> None:
    hall = address()
    w = await create(limited, address())
    regular = await client(limited, hall, "regular")
    await regular.join(w["code"])     # joined before the trouble: has a token
    await regular.drop()

    closes: list[int | None] = []
    for i in range(60):
        c = await client(limited, hall, f"guess-{i}")
        with pytest.raises(Refused) as refused:
            await c.join(wrong_code(w["code"]), lang="en")
        closes.append(refused.value.code)
        if refused.value.code == 4429:
            assert refused.value.error is not None
            assert refused.value.error["code"] == "too_many_attempts"
    first_429 = closes.index(4429)
    assert closes[:first_429] == [4404] * first_429, closes
    assert first_429 <= FAILURES_PER_MINUTE, closes      # long before the 60th
    assert set(closes[first_429:]) == {4429}, closes

    # The same address: a participant with its token still gets in, and so does staff.
    back = await client(limited, hall, "regular-back")
    welcome = await back.join(w["code"], token=regular.token)
    assert welcome["you"]["participant_id"] == regular.pid
    await back.ok("add_note", {"prompt_id": "q1", "text": "ik ben er weer"})
    fac = await client(limited, hall, "facilitator")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    # Joining by code alone is refused for now at this address, even with the right code,
    new = await client(limited, hall, "newcomer")
    with pytest.raises(Refused) as refused:
        await new.join(w["code"])
    assert refused.value.code == 4429
    # and the join page says so too.
    page = await http("GET", f"{limited.url}/join?code={w['code']}", headers=from_(hall),
                      follow=False)
    assert page.status == 429, page
    # Another address is not affected.
    elsewhere = await client(limited, address(), "elsewhere")
    await elsewhere.join(w["code"])
    await close_all(back, fac, elsewhere)


async def test_wrong_keys_are_limited(limited: ServerProcess) -> None:
    hall = address()
    w = await create(limited, address())
    closes = []
    for i in range(FAILURES_PER_MINUTE + 5):
        c = await client(limited, hall, f"key-{i}")
        with pytest.raises(Refused) as refused:
            await c.staff("facilitator", w["id"], secrets.token_urlsafe(24))
        closes.append(refused.value.code)
    assert closes[:FAILURES_PER_MINUTE] == [4401] * FAILURES_PER_MINUTE, closes
    assert set(closes[FAILURES_PER_MINUTE:]) == {4429}, closes
    # Exports with a wrong key are refused too; the right key still works.
    wrong = await http("GET", f"{limited.url}/api/workshops/{w['id']}/export.json",
                       headers={**from_(hall), "Authorization": "Bearer nope"})
    assert wrong.status == 429 and wrong.json()["error"]["code"] == "too_many_attempts"
    fac = await client(limited, hall, "facilitator")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    await fac.drop()


# ------------------------------------------------------------------ creating
async def test_creating_workshops_is_limited_per_address(limited: ServerProcess) -> None:
    addr = address()
    body = {"title": "Veel", "prompts": ["Waarom?"]}
    bad = await http("POST", f"{limited.url}/api/workshops", {"title": ""}, headers=from_(addr))
    assert bad.status == 400        # a refused body does not count
    for i in range(CREATES_PER_HOUR):
        resp = await http("POST", f"{limited.url}/api/workshops", body, headers=from_(addr))
        assert resp.status == 201, (i, resp)
    resp = await http("POST", f"{limited.url}/api/workshops?lang=en", body, headers=from_(addr))
    assert resp.status == 429, resp
    error = resp.json()["error"]
    assert error["code"] == "too_many_attempts" and error["message"].strip(), error
    assert resp.headers["content-type"].startswith("application/json")
    # Another address may still create.
    other = await http("POST", f"{limited.url}/api/workshops", body, headers=from_(address()))
    assert other.status == 201, other

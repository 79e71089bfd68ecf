"""Promise: getting in is limited per address without locking out a hall, and guessing a
join code stays slow for an attacker with many addresses (docs/security.md, Abuse).

- The QR link's join secret lets a phone in while its address is over the limit for
  wrong codes; a typed code from there gets 4429.
- An IPv6 address counts as its /64; wrong codes over all addresses have a budget.
- X-Forwarded-For is trusted only from FORWARDED_ALLOW_IPS (nobody by default).
- Join codes grow longer when many are in use, and every length joins everywhere.
- New joins from one address are shaped: a hall (300 phones in 30 s) gets in without
  waiting, a scripted burst (150 in under a second) waits its turn and is never refused.

The servers run on Valkeys of their own (limits and the count of codes live in Redis) and
speak for client addresses through X-Forwarded-For from 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.embedded import EmbeddedValkey
from tests.security.test_headers import ProcfileServer
from tests.support import Client, Refused, ServerProcess, close_all, http

FAILURES_PER_MINUTE = 20


@pytest.fixture(scope="module")
def valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedValkey]:
    v = EmbeddedValkey(tmp_path_factory.mktemp("valkey-admission"))
    v.start()
    try:
        yield v
    finally:
        v.stop()


@pytest.fixture(scope="module")
def guarded(valkey: EmbeddedValkey, logs_dir: Path) -> Iterator[ServerProcess]:
    """The default failure limit and the default join shaping (10 a second, bursts of 60)."""
    env = {"FAILURES_PER_MINUTE": str(FAILURES_PER_MINUTE), "JOINS_PER_SECOND": "10",
           "JOIN_BURST": "60"}
    with ServerProcess(valkey.url, logs_dir, name="guarded", env=env) as proc:
        yield proc


_ADDRESSES = itertools.count(1)


def address() -> str:
    """A client address of its own (TEST-NET-3)."""
    n = next(_ADDRESSES)
    return f"203.0.{113 + n // 250}.{n % 250 + 1}"


def from_(addr: str) -> dict[str, str]:
    return {"X-Forwarded-For": addr}


async def client(server: ServerProcess, addr: str | None, name: str) -> Client:
    c = Client(server, name=name)
    await c.connect(additional_headers=from_(addr) if addr else {})
    return c


async def create(server: ServerProcess) -> dict[str, Any]:
    resp = await http("POST", f"{server.url}/api/workshops",
                      {"title": "Toegang", "prompts": ["Wat vindt u?"]}, headers=from_(address()))
    assert resp.status == 201, resp
    created: dict[str, Any] = resp.json()
    return created


def wrong_code(right: str) -> str:
    code = right
    while code == right:
        code = f"{secrets.randbelow(10 ** len(right)):0{len(right)}d}"
    return code


async def guess(server: ServerProcess, addr: str | None, code: str) -> int | None:
    """One typed code over the socket: the close code it gets (None: it got in)."""
    c = await client(server, addr, "guess")
    try:
        await c.join(code)
    except Refused as refused:
        return refused.code
    await c.drop()
    return None


async def by_link(server: ServerProcess, addr: str | None, w: dict[str, Any],
                  name: str = "qr", within: float = 10.0) -> Client:
    """A phone that scanned the QR code: the page's hello carries the link's secret."""
    c = await client(server, addr, name)
    fields = {"role": "participant", "code": w["code"], "token": None, "since": None,
              "join_secret": w["join_secret"]}
    c.hello_fields = fields
    await c.hello(within=within, **fields)
    return c


# ------------------------------------------------------------------- QR secret
async def test_the_qr_link_gets_in_while_typed_codes_are_refused(guarded: ServerProcess) -> None:
    w = await create(guarded)
    hall = address()
    closes = [await guess(guarded, hall, wrong_code(w["code"])) for _ in range(25)]
    assert closes[:FAILURES_PER_MINUTE] == [4404] * FAILURES_PER_MINUTE, closes
    assert set(closes[FAILURES_PER_MINUTE:]) == {4429}, closes
    # A typed code from that address, even the right one, waits (socket and pages)...
    assert await guess(guarded, hall, w["code"]) == 4429
    page = await http("GET", f"{guarded.url}/join?code={w['code']}", headers=from_(hall),
                      follow=False)
    assert page.status == 429, page
    # ...while the QR link gets in: its page, its redirect, and its hello.
    assert w["urls"]["join"] == f"/join?code={w['code']}&s={w['join_secret']}"
    page = await http("GET", guarded.url + w["urls"]["join"], headers=from_(hall), follow=False)
    assert page.status == 303, page
    assert page.headers["location"] == f"/j/{w['code']}?s={w['join_secret']}"
    phone_page = await http("GET", guarded.url + page.headers["location"], headers=from_(hall))
    assert phone_page.status == 200 and w["join_secret"] in phone_page.text
    phone = await by_link(guarded, hall, w)
    await phone.ok("add_note", {"prompt_id": "q1", "text": "via de QR-code"})
    # A wrong secret is a typed code.
    forged = {**w, "join_secret": secrets.token_urlsafe(24)}
    with pytest.raises(Refused) as refused:
        await by_link(guarded, hall, forged)
    assert refused.value.code == 4429
    forged_page = await http("GET", f"{guarded.url}/j/{w['code']}?s={forged['join_secret']}",
                             headers=from_(hall))
    assert forged_page.status == 429 and w["join_secret"] not in forged_page.text
    await phone.drop()


async def test_a_phone_that_typed_the_right_code_may_reload_past_the_limit(
    guarded: ServerProcess,
) -> None:
    """Typing the right code hands the phone page the join secret: its reloads and
    reconnects pass the limit that a prankster's wrong codes put on the address later."""
    w = await create(guarded)
    hall = address()
    page = await http("GET", f"{guarded.url}/join?code={w['code']}", headers=from_(hall),
                      follow=False)
    assert page.status == 303, page
    assert page.headers["location"] == f"/j/{w['code']}?s={w['join_secret']}"
    for _ in range(FAILURES_PER_MINUTE):
        await guess(guarded, hall, wrong_code(w["code"]))
    assert await guess(guarded, hall, w["code"]) == 4429
    reload = await http("GET", guarded.url + page.headers["location"], headers=from_(hall))
    assert reload.status == 200, reload


async def test_rotating_keys_replaces_the_join_secret(guarded: ServerProcess) -> None:
    w = await create(guarded)
    resp = await http("POST", f"{guarded.url}/api/workshops/{w['id']}/keys",
                      headers={**from_(address()),
                               "Authorization": f"Bearer {w['facilitator_key']}"})
    assert resp.status == 200, resp
    fresh = resp.json()
    assert fresh["join_secret"] != w["join_secret"]
    assert fresh["urls"]["join"] == f"/join?code={w['code']}&s={fresh['join_secret']}"
    hall = address()
    for _ in range(FAILURES_PER_MINUTE):
        await guess(guarded, hall, wrong_code(w["code"]))
    with pytest.raises(Refused) as refused:
        await by_link(guarded, hall, w)             # the old QR link: a typed code now
    assert refused.value.code == 4429
    phone = await by_link(guarded, hall, {**w, "join_secret": fresh["join_secret"]})
    await phone.drop()


# ------------------------------------------------------------------ per /64
async def test_an_ipv6_64_counts_as_one_address(guarded: ServerProcess) -> None:
    w = await create(guarded)
    prefix = f"2001:db8:{secrets.randbelow(65536):x}:{secrets.randbelow(65536):x}"
    closes = [await guess(guarded, f"{prefix}::{i + 1:x}", wrong_code(w["code"]))
              for i in range(FAILURES_PER_MINUTE + 5)]
    assert closes[:FAILURES_PER_MINUTE] == [4404] * FAILURES_PER_MINUTE, closes
    assert set(closes[FAILURES_PER_MINUTE:]) == {4429}, closes
    # A fresh address in the same /64 is refused too; the next /64 is not.
    assert await guess(guarded, f"{prefix}:0:1:2:3", w["code"]) == 4429
    assert await guess(guarded, f"{prefix[:-1]}{int(prefix[-1], 16) ^ 1:x}::1", w["code"]) is None


# ------------------------------------------------------------ the global budget
@pytest.fixture(scope="module")
def budgeted(tmp_path_factory: pytest.TempPathFactory, logs_dir: Path) -> Iterator[ServerProcess]:
    valkey = EmbeddedValkey(tmp_path_factory.mktemp("valkey-budget"))
    valkey.start()
    try:
        with ServerProcess(valkey.url, logs_dir, name="budget",
                           env={"GUESSES_PER_MINUTE": "30"}) as proc:
            yield proc
    finally:
        valkey.stop()


async def test_wrong_codes_from_many_addresses_share_a_budget(budgeted: ServerProcess) -> None:
    w = await create(budgeted)
    first = await client(budgeted, address(), "staying")
    await first.join(w["code"])
    # 30 addresses, one wrong code each: no address is near its own limit.
    closes = [await guess(budgeted, address(), wrong_code(w["code"])) for _ in range(30)]
    assert set(closes) == {4404}, closes
    # Now a typed code from a fresh address waits, with a calm word, the right code too...
    c = await client(budgeted, address(), "late")
    with pytest.raises(Refused) as refused:
        await c.join(w["code"], lang="en")
    assert refused.value.code == 4429
    assert refused.value.error is not None
    assert refused.value.error["code"] == "guessing_paused", refused.value.error
    page = await http("GET", f"{budgeted.url}/join?code={w['code']}", headers=from_(address()))
    assert page.status == 429 and "Even geduld" in page.text, page
    # ...while the QR link, a token and a key still enter.
    phone = await by_link(budgeted, address(), w)
    back = await client(budgeted, address(), "back")
    await back.join(w["code"], token=first.token)
    fac = await client(budgeted, address(), "facilitator")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    await close_all(first, phone, back, fac)


# ------------------------------------------------------------- proxy headers
@pytest.fixture(scope="module", params=["python -m server", "Procfile"])
def untrusting(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               logs_dir: Path) -> Iterator[ServerProcess]:
    """Nobody set FORWARDED_ALLOW_IPS: the default. A Valkey of its own: every failure
    here is 127.0.0.1's."""
    valkey = EmbeddedValkey(tmp_path_factory.mktemp("valkey-untrusting"))
    valkey.start()
    env: dict[str, str | None] = {"FORWARDED_ALLOW_IPS": None,
                                  "FAILURES_PER_MINUTE": str(FAILURES_PER_MINUTE)}
    kind = ProcfileServer if request.param == "Procfile" else ServerProcess
    try:
        with kind(valkey.url, logs_dir, name=f"untrusting-{kind.__name__}", env=env) as proc:
            yield proc
    finally:
        valkey.stop()


async def test_forwarded_headers_are_ignored_by_default(untrusting: ServerProcess) -> None:
    w = await create(untrusting)
    # Each wrong code claims another address; all of them are 127.0.0.1's.
    closes = [await guess(untrusting, address(), wrong_code(w["code"]))
              for _ in range(FAILURES_PER_MINUTE + 2)]
    assert closes[:FAILURES_PER_MINUTE] == [4404] * FAILURES_PER_MINUTE, closes
    assert set(closes[FAILURES_PER_MINUTE:]) == {4429}, closes
    # Nor is the scheme taken from a header: no HSTS for a claimed https.
    resp = await http("GET", f"{untrusting.url}/", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in resp.headers


# -------------------------------------------------------------- longer codes
@pytest.fixture(scope="module")
def growing(tmp_path_factory: pytest.TempPathFactory, logs_dir: Path) -> Iterator[ServerProcess]:
    """CODE_ODDS=500000: a 6-digit code for 2 codes in use, 7 digits from the 3rd."""
    valkey = EmbeddedValkey(tmp_path_factory.mktemp("valkey-codes"))
    valkey.start()
    try:
        with ServerProcess(valkey.url, logs_dir, name="codes",
                           env={"CODE_ODDS": "500000"}) as proc:
            yield proc
    finally:
        valkey.stop()


async def test_codes_grow_with_the_codes_in_use_and_join_everywhere(
    growing: ServerProcess,
) -> None:
    made = [await create(growing) for _ in range(3)]
    assert [len(w["code"]) for w in made] == [6, 6, 7], [w["code"] for w in made]
    long = made[2]
    code = long["code"]
    # The landing form, the join redirect, the phone page and the hello take 7 digits.
    landing = await http("GET", f"{growing.url}/")
    assert 'maxlength="14"' in landing.text
    spaced = f"{code[:3]} {code[3:]}"
    page = await http("GET", f"{growing.url}/join?code={spaced.replace(' ', '+')}",
                      follow=False)
    assert page.status == 303, page
    assert page.headers["location"] == f"/j/{code}?s={long['join_secret']}", page
    assert (await http("GET", f"{growing.url}/j/{code}")).status == 200
    phone = await client(growing, None, "seven")
    await phone.join(code)
    await phone.ok("add_note", {"prompt_id": "q1", "text": "zeven cijfers"})
    await phone.drop()
    # A wrong code of that length is an unknown code, as ever.
    assert (await http("GET", f"{growing.url}/join?code={wrong_code(code)}")).status == 404
    # Erased workshops no longer count: back to 6 digits.
    for w in made[:2]:
        resp = await http("DELETE", f"{growing.url}/api/workshops/{w['id']}",
                          headers={"Authorization": f"Bearer {w['facilitator_key']}"})
        assert resp.status == 204
    assert len((await create(growing))["code"]) == 6


# ------------------------------------------------------------------ shaping
async def join_timed(server: ServerProcess, addr: str, w: dict[str, Any], i: int,
                     delay: float = 0.0) -> tuple[float, int]:
    """One phone by the QR link after `delay`: (seconds from its hello to its welcome,
    how many `wait` frames it got). A refusal fails the test."""
    await asyncio.sleep(delay)
    c = await client(server, addr, f"phone-{i}")
    start = time.monotonic()
    fields = {"role": "participant", "code": w["code"], "token": None, "since": None,
              "join_secret": w["join_secret"]}
    await c.hello(within=60, **fields)
    took = time.monotonic() - start
    waits = [f for f in c.frames if f["type"] == "wait"]
    assert all(f["retry_after_ms"] > 0 for f in waits), waits
    await c.drop()
    return took, len(waits)


async def test_a_hall_behind_one_address_gets_in_without_waiting(
    guarded: ServerProcess,
) -> None:
    """300 phones scan the code at random moments within 30 s, all from one address."""
    w = await create(guarded)
    hall = address()
    rng = random.Random(12)
    moments = sorted(rng.uniform(0, 30) for _ in range(300))
    start = time.monotonic()
    results = await asyncio.gather(*(join_timed(guarded, hall, w, i, at)
                                     for i, at in enumerate(moments)))
    took = time.monotonic() - start
    waited = [r for r in results if r[1]]
    assert not waited, f"{len(waited)} of 300 phones waited: {waited[:5]}"
    assert took < 40, took


async def test_a_scripted_burst_is_slowed_and_never_refused(guarded: ServerProcess) -> None:
    """150 joins in under a second from one address: the first 60 (the burst) go at once,
    the others wait their turn (10 a second), and every one gets its welcome."""
    w = await create(guarded)
    attacker = address()
    start = time.monotonic()
    # A phone from another address joins in the middle of it.
    bystander = asyncio.create_task(join_timed(guarded, address(), w, 999, 2.0))
    results = await asyncio.gather(*(join_timed(guarded, attacker, w, i, i * 0.005)
                                     for i in range(150)))
    took = time.monotonic() - start
    waited = sorted(r[0] for r in results if r[1])
    assert len(waited) >= 150 - 60 - 10, f"only {len(waited)} waited"
    # 90 over the burst at 10 a second: the last one is in after about 9 s, not before.
    assert took > 7, took
    assert took < 25, took
    # The other address's phone got in at once, without waiting.
    its_time, its_waits = await bystander
    assert its_waits == 0 and its_time < 2, (its_time, its_waits)

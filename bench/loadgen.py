"""A load-generator worker: one process with many WebSocket clients speaking the real
protocol (hello, welcome, ops, events) with the `websockets` client.

The orchestrator (bench/run.py) starts several workers with multiprocessing and sends
each one commands over a pipe; a worker answers every command with one dict. Clients
mostly idle-receive: frames are scanned with a few byte regexes, not parsed, except for
the rare welcome, ack and nack.

Notes carry `bn:<uid>:<send time in µs>` at the start of their text, so every receiver
can tell which note arrived and how long it took (all processes share one clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import DATA_OPCODES, Frame, Opcode
from websockets.protocol import Event

from bench.stats import hist_add, hist_sparse, new_hist

SEQ_RE = re.compile(rb'\{"seq":(\d+),"kind":"')
NOTE_RE = re.compile(rb'"text":"bn:([0-9a-z]+):(\d+)')
VOTERS_RE = re.compile(rb'"voters":(\d+)')
COUNT_RE = re.compile(rb'"count":(\d+)')
PAD = (
    " Meer bankjes en schaduw op het plein, zodat ouderen er ook in de zomer kunnen zitten."
)
RETRY_CODES = frozenset({"try_again", "too_fast"})
RETRY_S = 3.0  # as static/js/protocol.js
MAX_TRIES = 20  # a minute of retries; the phones never give up
OPEN_TIMEOUT = 30.0
ANSWER_TIMEOUT = 70.0  # longer than MAX_TRIES retries


async def sleep_until(t: float) -> None:
    delay = t - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


class FastConnection(ClientConnection):
    """The websockets client, handing each complete data frame straight to `on_data`
    (no per-frame queue and task wake-up: about 40% less CPU per frame received).

    Once `on_data` is set, the server's frames are also cut from the bytes here (they
    are unmasked and never fragmented: a few slices instead of websockets' generator
    parser, ~6 µs a frame, a fifth of the generator's cost per frame in a big hall).
    A ping is answered here; anything else (a close, a fragment) and every byte after
    it go to websockets as usual, which then takes over for good."""

    on_data: Callable[[Any], None] | None = None

    fragmented = 0  # data frames not handed over (fragments: never seen from Samenspel)
    _fast = True
    _rest = b""

    def data_received(self, data: bytes) -> None:
        if self.on_data is None or not self._fast:
            super().data_received(data)
            return
        buf = self._rest + data if self._rest else data
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if n - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            end = pos + head + length
            if end > n:
                break
            opcode = b0 & 0x0F
            if b0 & 0xF0 == 0x80 and not b1 & 0x80 and opcode in (0x1, 0x2):
                self.on_data(buf[pos + head:end])
            elif b0 == 0x89 and not b1 & 0x80:  # a ping: pong it, as websockets would
                self.protocol.send_pong(buf[pos + head:end])
                self.send_data()
            else:
                self._fast = False
                self._rest = b""
                super().data_received(buf[pos:])
                return
            pos = end
        self._rest = buf[pos:]

    def process_event(self, event: Event) -> None:
        if self.on_data is not None and type(event) is Frame and event.opcode in DATA_OPCODES:
            if event.fin and event.opcode is not Opcode.CONT:
                self.on_data(event.data)
                return
            self.fragmented += 1
        super().process_event(event)


class Client:
    __slots__ = (
        "answers", "cid", "close_code", "kind", "last_seq", "mine", "pending", "quiet",
        "reader", "room", "spec", "sync_fut", "sync_target", "token", "violations", "welcome",
        "welcome_fut", "ws",
    )

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.cid: str = spec["cid"]
        self.room: str = spec["room"]
        self.kind: str = spec["kind"]  # phone | wall | fac
        self.ws: FastConnection | None = None
        self.token: str | None = spec.get("token")
        self.last_seq = 0
        # op_id -> (first sent, op, args, tries): answered ops leave; retried ones stay
        self.pending: dict[str, tuple[float, str, dict[str, Any], int]] = {}
        self.answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.reader: asyncio.Task[None] | None = None
        self.welcome_fut: asyncio.Future[dict[str, Any]] | None = None
        self.welcome: dict[str, Any] | None = None
        self.sync_target: int | None = None
        self.sync_fut: asyncio.Future[float] | None = None
        self.mine: dict[str, int] | None = None
        self.quiet = False  # closed on purpose: not an unexpected close
        self.violations = 0
        self.close_code: int | None = None

    def hello(self, since: int | None) -> dict[str, Any]:
        s = self.spec
        if self.kind == "phone":
            return {"type": "hello", "role": "participant", "code": s["code"],
                    "token": self.token, "since": since, "lang": "nl"}
        role = "projector" if self.kind == "wall" else "facilitator"
        return {"type": "hello", "role": role, "workshop": s["workshop"], "key": s["key"],
                "since": since, "lang": "nl"}


class Worker:
    def __init__(self, conn: Connection, index: int) -> None:
        self.conn = conn
        self.index = index
        self.clients: dict[str, Client] = {}
        self.note_counter = 0
        self.reset_receipts()
        self.oplog: list[dict[str, Any]] = []
        self.closes: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        self.frames = 0
        self.bytes = 0
        # per room, the wall's latest `voters` and participant `count`, with the time seen
        self.wall_voters: dict[str, tuple[int, float]] = {}
        self.wall_count: dict[str, tuple[int, float]] = {}

    def reset_receipts(self) -> None:
        self.phone_rx: dict[bytes, list[float]] = {}
        self.wall_rx: dict[bytes, float] = {}
        self.fac_rx: dict[bytes, float] = {}
        self.phone_hist = new_hist()

    # ------------------------------------------------------------- frames
    def on_frame(self, c: Client, data: bytes) -> None:
        now = time.time()
        self.frames += 1
        self.bytes += len(data)
        if data.startswith(b'{"type":"events"'):
            seqs = SEQ_RE.findall(data)
            if seqs:
                prev = c.last_seq
                for raw in seqs:
                    s = int(raw)
                    if s <= prev:
                        c.violations += 1
                    prev = s
                c.last_seq = prev
            if b'"bn:' in data:
                now_us = now * 1e6
                if c.kind == "phone":
                    rx = self.phone_rx
                    hist = self.phone_hist
                    for uid, ts in NOTE_RE.findall(data):
                        r = rx.get(uid)
                        if r is None:
                            rx[uid] = [1, now]
                        else:
                            r[0] += 1
                            r[1] = now
                        hist_add(hist, (now_us - int(ts)) / 1000.0)
                else:
                    target = self.wall_rx if c.kind == "wall" else self.fac_rx
                    for uid, _ts in NOTE_RE.findall(data):
                        target.setdefault(uid, now)
            if c.kind == "wall":
                m = VOTERS_RE.findall(data)
                if m:
                    v = int(m[-1])
                    if self.wall_voters.get(c.room, (-1, 0.0))[0] != v:
                        self.wall_voters[c.room] = (v, now)
                m = COUNT_RE.findall(data)
                if m:
                    v = int(m[-1])
                    if self.wall_count.get(c.room, (-1, 0.0))[0] != v:
                        self.wall_count[c.room] = (v, now)
            self._check_sync(c, now)
            return
        if data.startswith(b'{"type":"ack"') or data.startswith(b'{"type":"nack"'):
            msg = orjson.loads(data)
            op_id = msg.get("op_id")
            ok = msg["type"] == "ack"
            code = None if ok else msg.get("error", {}).get("code")
            sent = c.pending.get(op_id)
            if code in RETRY_CODES and sent is not None and sent[3] < MAX_TRIES:
                # "Not now": like the phones' outbox, send the same op again in a while.
                c.pending[op_id] = (sent[0], sent[1], sent[2], sent[3] + 1)
                self.retries[str(code)] += 1
                asyncio.get_running_loop().call_later(
                    RETRY_S, lambda: asyncio.ensure_future(self._resend(c, op_id)))
                return
            c.pending.pop(op_id, None)
            rec = {
                "cid": c.cid, "room": c.room, "op_id": op_id,
                "op": sent[1] if sent else None,
                "sent": sent[0] if sent else None, "answered": now, "ok": ok,
                "seq": msg.get("seq"), "result": msg.get("result"), "code": code,
                "tries": sent[3] if sent else 1,
            }
            self.oplog.append(rec)
            if ok and rec["op"] == "vote" and isinstance(rec["result"], dict):
                c.mine = rec["result"].get("mine") or {}
            fut = c.answers.pop(op_id, None)
            if fut is not None and not fut.done():
                fut.set_result(rec)
            return
        if data.startswith(b'{"type":"welcome"'):
            msg = orjson.loads(data)
            c.welcome = msg
            c.last_seq = int(msg["seq"])
            tok = msg.get("you", {}).get("token")
            if tok:
                c.token = tok
            if c.welcome_fut is not None and not c.welcome_fut.done():
                c.welcome_fut.set_result(msg)
            self._check_sync(c, now)
            return
        if data.startswith(b'{"type":"error"'):
            with contextlib.suppress(Exception):
                self.errors[orjson.loads(data)["error"]["code"]] += 1

    def _check_sync(self, c: Client, now: float) -> None:
        if (c.sync_fut is not None and not c.sync_fut.done() and c.welcome is not None
                and c.sync_target is not None and c.last_seq >= c.sync_target):
            c.sync_fut.set_result(now)

    async def read(self, c: Client, ws: FastConnection) -> None:
        """Frames arrive through ws.on_data; this task only waits for the end."""
        try:
            await ws.wait_closed()
            rcvd = ws.protocol.close_rcvd
            c.close_code = rcvd.code if rcvd is not None else None
            if ws.fragmented:
                self.errors["fragmented frames"] += ws.fragmented
            if not c.quiet:
                self.closes[str(c.close_code)] += 1
        except Exception as exc:
            self.closes[type(exc).__name__] += 1
        finally:
            for fut in (c.welcome_fut, c.sync_fut):
                if fut is not None and not fut.done():
                    fut.set_exception(ConnectionError(f"closed {c.close_code}"))
                    fut.exception()  # retrieved: nobody may be waiting any more
            for fut in c.answers.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("closed"))
                    fut.exception()
            c.answers.clear()

    def _data(self, c: Client, data: Any) -> None:
        try:
            self.on_frame(c, data if type(data) is bytes else bytes(data))
        except Exception as exc:
            self.errors[f"frame:{type(exc).__name__}"] += 1

    async def open_client(self, c: Client, since: int | None = None) -> dict[str, Any]:
        """Connect, send hello, wait for welcome. Returns timings (s since epoch)."""
        t0 = time.time()
        loop = asyncio.get_running_loop()
        c.welcome = None
        c.welcome_fut = loop.create_future()
        try:
            ws = await connect(
                c.spec["url"], origin=c.spec["origin"], compression=None, max_size=2**24,
                open_timeout=OPEN_TIMEOUT, ping_interval=None, close_timeout=2,
                user_agent_header="samenspel-bench", create_connection=FastConnection,
                proxy=None,  # (else every connect reads the whole environment for proxies)
            )
        except Exception as exc:
            return {"ok": False, "t0": t0, "error": f"connect:{type(exc).__name__}"}
        ws.on_data = lambda data: self._data(c, data)
        c.ws = ws
        c.quiet = False
        c.close_code = None
        c.reader = asyncio.create_task(self.read(c, ws))
        try:
            await ws.send(orjson.dumps(c.hello(since)).decode())
            welcome = await asyncio.wait_for(c.welcome_fut, OPEN_TIMEOUT)
        except Exception as exc:
            with contextlib.suppress(Exception):
                await ws.close()
            return {"ok": False, "t0": t0, "error": f"hello:{type(exc).__name__}:{c.close_code}"}
        return {"ok": True, "t0": t0, "t1": time.time(), "seq": welcome["seq"],
                "snapshot": welcome.get("state") is not None}

    async def send_op(self, c: Client, op: str, args: dict[str, Any], op_id: str,
                      want: bool = False) -> asyncio.Future[dict[str, Any]] | None:
        assert c.ws is not None
        fut: asyncio.Future[dict[str, Any]] | None = None
        if want:
            fut = asyncio.get_running_loop().create_future()
            c.answers[op_id] = fut
        c.pending[op_id] = (time.time(), op, args, 1)
        await c.ws.send(orjson.dumps(
            {"type": "op", "op_id": op_id, "op": op, "args": args}).decode())
        return fut

    async def _resend(self, c: Client, op_id: str) -> None:
        entry = c.pending.get(op_id)
        if entry is None or c.ws is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await c.ws.send(orjson.dumps(
                {"type": "op", "op_id": op_id, "op": entry[1], "args": entry[2]}).decode())

    # ----------------------------------------------------------- commands
    async def cmd_open(self, specs: list[dict[str, Any]], start_at: float | None = None,
                       concurrency: int = 50) -> dict[str, Any]:
        """Open clients. With per-spec `at` offsets (seconds after start_at), each starts
        on schedule (a join storm); otherwise at most `concurrency` at a time."""
        sem = asyncio.Semaphore(concurrency)
        results: list[dict[str, Any]] = []

        async def one(spec: dict[str, Any]) -> None:
            c = Client(spec)
            self.clients[c.cid] = c
            if spec.get("at") is not None and start_at is not None:
                await sleep_until(start_at + spec["at"])
                r = await self.open_retrying(c)
            else:
                async with sem:
                    r = await self.open_retrying(c)
            r["cid"] = c.cid
            r["kind"] = c.kind
            r["room"] = c.room
            results.append(r)

        await asyncio.gather(*(one(s) for s in specs))
        return {"results": [{k: r.get(k) for k in ("cid", "kind", "room", "ok", "t0", "t1",
                                                   "seq", "error", "attempts", "errors")}
                            for r in results]}

    async def open_retrying(self, c: Client, since: int | None = None,
                            attempts: int = 4) -> dict[str, Any]:
        """open_client, and on failure again after a backoff (as the phones do: 0.5 s,
        doubling, with jitter). Times count from the first attempt."""
        errors = []
        first = time.time()
        r: dict[str, Any] = {}
        for k in range(attempts):
            r = await self.open_client(c, since=since)
            if r["ok"]:
                break
            errors.append(r.get("error"))
            await asyncio.sleep(0.5 * 2**k * (0.5 + random.random()))
        r["t0"] = first
        r["attempts"] = k + 1
        r["errors"] = errors
        return r

    async def cmd_notes(self, plan: list[dict[str, Any]], start_at: float) -> dict[str, Any]:
        """Post notes: per room `rate` notes/s, `count` notes, first at start_at+phase."""
        before = len(self.oplog)

        async def room_task(p: dict[str, Any]) -> int:
            posters = [c for c in self.clients.values()
                       if c.room == p["room"] and c.kind == "phone" and c.ws is not None]
            if not posters:
                return 0
            random.shuffle(posters)
            sent = 0
            for j in range(p["count"]):
                await sleep_until(start_at + p["phase"] + j / p["rate"])
                c = posters[j % len(posters)]
                self.note_counter += 1
                uid = f"w{self.index}n{self.note_counter}"
                text = f"bn:{uid}:{int(time.time() * 1e6)}{PAD}"
                try:
                    await self.send_op(c, "add_note", {"prompt_id": p.get("prompt", "q1"),
                                                       "text": text}, uid)
                    sent += 1
                except ConnectionClosed:
                    self.errors["send_closed"] += 1
            return sent

        counts = await asyncio.gather(*(room_task(p) for p in plan))
        await self._wait_answers(ANSWER_TIMEOUT)
        recs = [r for r in self.oplog[before:] if r["op"] == "add_note"]
        unanswered = [{"cid": c.cid, "op_id": k, "sent": v[0], "room": c.room}
                      for c in self.clients.values() for k, v in c.pending.items()
                      if v[1] == "add_note"]
        return {"sent": sum(counts), "records": recs, "unanswered": unanswered}

    async def _wait_answers(self, seconds: float) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            if not any(c.pending for c in self.clients.values() if c.ws is not None
                       and c.close_code is None):
                return
            await asyncio.sleep(0.05)

    async def cmd_votes(self, room: str | None, items: list[str], dots: int, spread: float,
                        start_at: float, probe: bool = True) -> dict[str, Any]:
        """Each phone places `dots` dots on distinct random items, back to back (spread 0)
        or at random moments over `spread` seconds; then one more (the probe), which the
        budget must refuse."""
        before = len(self.oplog)
        phones = [c for c in self.clients.values()
                  if c.kind == "phone" and c.ws is not None and (room is None or c.room == room)]
        rng = random.Random(self.index)

        async def one(c: Client) -> None:
            chosen = rng.sample(items, dots) if len(items) >= dots else [
                items[i % len(items)] for i in range(dots)]
            times = sorted(rng.uniform(0, spread) for _ in chosen) if spread > 0 else [
                0.0] * dots
            plan = list(zip(times, chosen, strict=True))
            if probe:
                plan.append((spread + 0.5 if spread > 0 else 0.0, rng.choice(items)))
            for k, (t, item) in enumerate(plan):
                if t > 0:
                    await sleep_until(start_at + t)
                elif k == 0:
                    await sleep_until(start_at)
                op_id = f"v{k}{'p' if probe and k == dots else ''}-{c.cid}"
                try:
                    await self.send_op(c, "vote", {"item_id": item, "delta": 1}, op_id)
                except ConnectionClosed:
                    self.errors["send_closed"] += 1
                    return

        await asyncio.gather(*(one(c) for c in phones))
        await self._wait_answers(ANSWER_TIMEOUT)
        recs = [r for r in self.oplog[before:] if r["op"] == "vote"]
        unanswered = sum(1 for c in phones for v in c.pending.values() if v[1] == "vote")
        return {"phones": len(phones), "records": recs, "unanswered": unanswered}

    async def cmd_op(self, cid: str, op: str, args: dict[str, Any]) -> dict[str, Any]:
        c = self.clients[cid]
        self.note_counter += 1
        op_id = f"o{self.index}-{self.note_counter}"
        fut = await self.send_op(c, op, args, op_id, want=True)
        assert fut is not None
        return await asyncio.wait_for(fut, ANSWER_TIMEOUT)

    async def cmd_drop(self, kind: str = "phone") -> dict[str, Any]:
        """Cut the TCP connection of every client of this kind, without a close frame."""
        readers = []
        for c in self.clients.values():
            if c.kind == kind and c.ws is not None:
                c.quiet = True
                transport = c.ws.transport
                c.ws = None
                transport.abort()
                if c.reader is not None:
                    readers.append(c.reader)
        if readers:
            await asyncio.wait(readers, timeout=10)
        return {"dropped": len(readers)}

    async def cmd_reconnect(self, targets: dict[str, int], start_at: float,
                            kind: str = "phone", attempts: int = 4) -> dict[str, Any]:
        """Reconnect every dropped client at once with `since`; resynced when its seq
        reaches its room's target (from a snapshot or from replayed events)."""
        todo = [c for c in self.clients.values() if c.kind == kind and c.ws is None]
        loop = asyncio.get_running_loop()
        out: list[dict[str, Any]] = []

        async def one(c: Client) -> None:
            since = c.last_seq
            c.sync_target = targets[c.room]
            errors = []
            for attempt in range(attempts):
                c.sync_fut = loop.create_future()
                r = await self.open_client(c, since=since)
                if r["ok"]:
                    try:
                        done = await asyncio.wait_for(c.sync_fut, OPEN_TIMEOUT)
                        out.append({"ok": True, "t0": r["t0"], "welcome": r["t1"], "done": done,
                                    "snapshot": r["snapshot"], "attempts": attempt + 1,
                                    "since": since})
                        return
                    except Exception as exc:
                        errors.append(f"sync:{type(exc).__name__}")
                else:
                    errors.append(str(r.get("error")))
                await asyncio.sleep(0.5 * 2**attempt * (0.5 + random.random()))
            out.append({"ok": False, "errors": errors, "attempts": attempts})

        await sleep_until(start_at)
        await asyncio.gather(*(one(c) for c in todo))
        return {"results": out}

    async def cmd_progress(self) -> dict[str, Any]:
        return {
            "phone": sum(int(r[0]) for r in self.phone_rx.values()),
            "wall": len(self.wall_rx), "fac": len(self.fac_rx),
            "pending": sum(len(c.pending) for c in self.clients.values()),
        }

    async def cmd_collect(self) -> dict[str, Any]:
        out = {
            "phone": {k.decode(): v for k, v in self.phone_rx.items()},
            "wall": {k.decode(): v for k, v in self.wall_rx.items()},
            "fac": {k.decode(): v for k, v in self.fac_rx.items()},
            "hist": hist_sparse(self.phone_hist),
            "frames": self.frames, "bytes": self.bytes,
        }
        self.reset_receipts()
        self.frames = self.bytes = 0
        return out

    async def cmd_seqs(self) -> dict[str, Any]:
        """Per room, the lowest and highest seq among connected clients."""
        rooms: dict[str, list[int]] = {}
        for c in self.clients.values():
            if c.ws is None or c.close_code is not None:
                continue
            lo_hi = rooms.setdefault(c.room, [c.last_seq, c.last_seq])
            lo_hi[0] = min(lo_hi[0], c.last_seq)
            lo_hi[1] = max(lo_hi[1], c.last_seq)
        return {"rooms": rooms}

    async def cmd_status(self) -> dict[str, Any]:
        connected = Counter(c.kind for c in self.clients.values()
                            if c.ws is not None and c.close_code is None)
        return {
            "connected": dict(connected), "closes": dict(self.closes),
            "errors": dict(self.errors), "retries": dict(self.retries),
            "frames": self.frames, "bytes": self.bytes,
            "violations": sum(c.violations for c in self.clients.values()),
            "wall_voters": self.wall_voters, "wall_count": self.wall_count,
            "mine": {c.cid: (c.room, c.mine) for c in self.clients.values()
                     if c.kind == "phone" and c.mine is not None},
        }

    async def cmd_fetch_welcome(self, spec: dict[str, Any]) -> dict[str, Any]:
        c = Client(spec)
        r = await self.open_client(c)
        welcome = c.welcome
        if c.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(c.ws.close(), 5)
        return {"ok": r["ok"], "welcome": welcome, "error": r.get("error")}

    async def cmd_close(self, room: str | None = None) -> dict[str, Any]:
        """Close clients (of one room, or all) with a close frame, and forget them."""
        chosen = [c for c in self.clients.values() if room is None or c.room == room]

        async def one(c: Client) -> None:
            if c.ws is not None:
                c.quiet = True
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(c.ws.close(), 5)
            if c.reader is not None:
                c.reader.cancel()
                with contextlib.suppress(BaseException):
                    await c.reader

        sem = asyncio.Semaphore(200)

        async def limited(c: Client) -> None:
            async with sem:
                await one(c)

        await asyncio.gather(*(limited(c) for c in chosen))
        for c in chosen:
            self.clients.pop(c.cid, None)
        if room is None:
            self.oplog.clear()
            self.closes.clear()
            self.errors.clear()
            self.retries.clear()
            self.wall_voters.clear()
            self.wall_count.clear()
        return {"closed": len(chosen)}

    async def cmd_oplog_clear(self) -> dict[str, Any]:
        self.oplog.clear()
        return {}

    async def cmd_ping(self) -> dict[str, Any]:
        return {"pid": os.getpid()}

    # ------------------------------------------------------------- main
    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def pipe_reader() -> None:
            # A blocking reader thread: commands can be larger than the pipe's buffer.
            while True:
                try:
                    msg = self.conn.recv()
                except (EOFError, OSError):
                    msg = {"cmd": "exit"}
                loop.call_soon_threadsafe(queue.put_nowait, msg)
                if msg.get("cmd") == "exit":
                    return

        threading.Thread(target=pipe_reader, daemon=True, name="pipe-reader").start()
        while True:
            cmd = await queue.get()
            name = cmd["cmd"]
            if name == "exit":
                await self.cmd_close()
                with contextlib.suppress(OSError):
                    self.conn.send({"ok": True})
                return
            try:
                reply = await getattr(self, f"cmd_{name}")(**cmd.get("args", {}))
                reply.setdefault("ok_cmd", True)
            except Exception as exc:
                reply = {"ok_cmd": False, "error": repr(exc), "trace": traceback.format_exc()}
            self.conn.send(reply)


def worker_main(conn: Connection, index: int) -> None:
    import uvloop

    random.seed(index * 7919 + os.getpid())
    uvloop.run(Worker(conn, index).main())

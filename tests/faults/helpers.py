"""What the fault tests share, on top of tests.support.

- `Outbox`: a phone's outbox. It sends each op with an op_id fixed when the op is made,
  and keeps it until it has an answer, as static/js/connection.js does: when the socket is
  lost before the answer, it reconnects (with its token or key and `since`, to its own
  server or, if that one is gone, to another) and sends the op again with the SAME
  op_id; `try_again` and `too_fast` are sent again after a pause. Every answer is kept
  with the times it was sent and received, so that a test can say what was
  acknowledged, when, and how often an op went out.
- `OrderOnlyClient`: checks order only (for hundreds of phones in one test process).
- `rss`, `until`, `gather_limited`, `cancel`: small tools.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psutil
import websockets

from tests.support import Client, Refused, ServerProcess

RETRY_CODES = ("try_again", "too_fast")


@dataclass
class Sent:
    """One op of one client and everything that happened to it."""

    op_id: str
    op: str
    args: dict[str, Any]
    # (sent at, answered at, answer) for every answer, in order; time.monotonic().
    answers: list[tuple[float, float, dict[str, Any]]] = field(default_factory=list)
    sends: int = 0        # times the op went out
    lost: int = 0         # times the socket went away before an answer came
    unanswered: int = 0   # ... of which the op had gone out (not just failed to send)
    retried: int = 0      # times it was sent again after try_again / too_fast

    @property
    def final(self) -> dict[str, Any]:
        return self.answers[-1][2]

    @property
    def acked(self) -> bool:
        return bool(self.answers) and self.final["type"] == "ack"


class Outbox:
    """A client that does not lose its ops (see the module docstring)."""

    def __init__(self, client: Client, servers: Sequence[ServerProcess], *,
                 pause: float = 0.2, give_up: float = 60.0) -> None:
        self.client = client
        self.servers = list(servers)
        self.pause = pause
        self.give_up = give_up
        self.sent: list[Sent] = []
        self.reconnects = 0
        self.moves = 0              # reconnects that landed on another server
        self.closes: list[int | None] = []   # close code of every socket it lost
        self._generation = 0
        self._lock = asyncio.Lock()

    @property
    def server(self) -> ServerProcess:
        """The server that the client's socket goes to."""
        return next(s for s in self.servers if s.ws_url == self.client.ws_url)

    async def perform(self, op: str, args: dict[str, Any], *, op_id: str | None = None,
                      within: float = 20.0) -> Sent:
        """Send until answered (resending with the same op_id); returns the record."""
        sent = Sent(op_id or self.client.new_op_id(), op, args)
        self.sent.append(sent)
        deadline = time.monotonic() + self.give_up
        while True:
            assert time.monotonic() < deadline, f"{self.client.name}: {op} never answered"
            async with self._lock:      # never send on a socket that has not said hello
                generation = self._generation
            sent.sends += 1
            at = time.monotonic()
            try:
                answer = await self.client.op(op, args, op_id=sent.op_id, within=within)
            except (ConnectionError, websockets.ConnectionClosed) as exc:
                sent.lost += 1
                sent.unanswered += not isinstance(exc, websockets.ConnectionClosed)
                await self.reconnect(generation)
                continue
            sent.answers.append((at, time.monotonic(), answer))
            if answer["type"] == "nack" and answer["error"]["code"] in RETRY_CODES:
                sent.retried += 1
                await asyncio.sleep(self.pause)
                continue
            return sent

    async def reconnect(self, generation: int | None = None) -> None:
        """A new socket with the same identity and `since`; once per lost socket."""
        async with self._lock:
            if generation is not None and generation != self._generation:
                return          # another op of this client already reconnected
            self.closes.append(await self.client.wait_closed(5))
            deadline = time.monotonic() + self.give_up
            home = self.server
            while True:
                for srv in [home] + [s for s in self.servers if s is not home]:
                    if not srv.running:
                        continue
                    self.client.ws_url, self.client.origin = srv.ws_url, srv.origin
                    try:
                        await self.client.resume()
                    except (OSError, Refused, TimeoutError, websockets.InvalidHandshake,
                            websockets.ConnectionClosed):
                        continue
                    self.reconnects += 1
                    self.moves += srv is not home
                    self._generation += 1
                    return
                assert time.monotonic() < deadline, f"{self.client.name}: cannot reconnect"
                await asyncio.sleep(self.pause)


def acked(outboxes: Sequence[Outbox], op: str) -> list[tuple[Outbox, Sent]]:
    """Every acked op of this kind, with the outbox that sent it."""
    return [(o, s) for o in outboxes for s in o.sent if s.op == op and s.acked]


def rss(proc: ServerProcess) -> int:
    """Resident memory of the server process, in bytes."""
    assert proc.process is not None
    return int(psutil.Process(proc.process.pid).memory_info().rss)


async def gather_limited(coros: Sequence[Any], limit: int = 25) -> list[Any]:
    """asyncio.gather with at most `limit` running at once (say, 200 hellos)."""
    gate = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with gate:
            return await coro

    return list(await asyncio.gather(*(one(c) for c in coros)))


async def cancel(*tasks: asyncio.Task[Any]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


class OrderOnlyClient(Client):
    """A Client that checks event order (seen once, in order) but applies no events to a
    state: two hundred of them in one test process would spend most of its time there."""

    def _on_frame(self, msg: dict[str, Any]) -> None:
        if msg.get("type") != "events":
            super()._on_frame(msg)
            return
        state, self.state = self.state, None
        try:
            super()._on_frame(msg)
        finally:
            self.state = state


async def until(predicate: Callable[[], bool], within: float = 60.0, step: float = 0.01,
                what: str = "") -> None:
    """Poll a condition that other tasks make true (acks counted, answers logged)."""
    deadline = time.monotonic() + within
    while True:
        if predicate():
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what or predicate}"
        await asyncio.sleep(step)

"""A small protocol client on the real `websockets` client (one socket, as a screen).

It says hello per role, sends ops with generated op ids and awaits their ack or nack,
applies events to its state as a screen would (tests.support.state), and checks that it
never sees an event twice or out of order.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import Callable
from typing import Any

import orjson
import websockets
from websockets.asyncio.client import ClientConnection, connect

from server.client_state import apply_events
from tests.support.processes import ServerProcess


class Refused(Exception):
    """The server refused a hello: the error frame (if any) and the close code."""

    def __init__(self, code: int | None, error: dict[str, Any] | None) -> None:
        super().__init__(f"refused: close {code}, error {error}")
        self.code = code
        self.error = error



class Client:
    """One socket to the server, as a screen uses it.

    Frames are read by a background task: `welcome` sets the state (or keeps it, when the
    server replays instead), `events` are checked for order and applied, `ack`/`nack`
    resolve the op that is awaited. A client can reconnect (`resume`) and keeps its
    state, last seq and token across sockets, like the phone does.
    """

    def __init__(self, server: ServerProcess | str, *, name: str = "client",
                 origin: str | None = None) -> None:
        if isinstance(server, ServerProcess):
            self.ws_url, self.origin = server.ws_url, server.origin
        else:
            base = server.rstrip("/")
            self.ws_url = base.replace("http", "ws", 1) + "/ws"
            self.origin = base
        if origin is not None:
            self.origin = origin
        self.name = name
        self.ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._op_prefix = secrets.token_hex(4)
        self._op_counter = itertools.count(1)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.hello_fields: dict[str, Any] = {}
        self.welcome: dict[str, Any] | None = None
        self.state: dict[str, Any] | None = None
        self.you: dict[str, Any] = {}
        self.seq = 0
        self.frames: list[dict[str, Any]] = []      # every frame, every socket
        self.events: list[dict[str, Any]] = []      # every event, in arrival order
        self.answers: list[dict[str, Any]] = []     # every ack and nack
        self.errors: list[dict[str, Any]] = []      # every `error` frame
        self.violations: list[str] = []             # events seen twice or out of order
        self.close_code: int | None = None
        self.close_reason: str | None = None

    # -- identity
    @property
    def pid(self) -> str | None:
        pid: str | None = self.you.get("participant_id")
        return pid

    @property
    def token(self) -> str | None:
        token: str | None = self.you.get("token")
        return token

    # -- connection
    async def connect(self, **kw: Any) -> Client:
        self.close_code = self.close_reason = None
        self._frames_this_socket = 0
        self.ws = await connect(self.ws_url, origin=self.origin, proxy=None,  # type: ignore[arg-type]
                                open_timeout=10, max_size=None, **kw)
        self._reader = asyncio.create_task(self._read(self.ws), name=f"read-{self.name}")
        return self

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self._on_frame(orjson.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            if ws is self.ws:
                rcvd = ws.protocol.close_rcvd
                self.close_code = rcvd.code if rcvd is not None else ws.close_code
                self.close_reason = rcvd.reason if rcvd is not None else ws.close_reason
                for fut in self._pending.values():
                    if not fut.done():
                        fut.set_exception(ConnectionError(
                            f"{self.name}: socket closed ({self.close_code}) before an answer"))
            self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _on_frame(self, msg: dict[str, Any]) -> None:
        self.frames.append(msg)
        kind = msg.get("type")
        if kind == "welcome":
            self.welcome = msg
            self.you = msg["you"]
            if msg["state"] is not None:
                self.state = msg["state"]
            elif self.state is None:
                self.violations.append("welcome without state on a first connection")
            self.seq = msg["seq"]
        elif kind == "events":
            batch = msg["events"]
            for ev in batch:
                if ev["seq"] <= self.seq:
                    self.violations.append(
                        f"event {ev['seq']} {ev['kind']} after {self.seq}")
                self.seq = max(self.seq, ev["seq"])
            self.events.extend(batch)
            if self.state is not None:
                apply_events(self.state, batch, self.pid)
        elif kind in ("ack", "nack"):
            self.answers.append(msg)
            fut = self._pending.pop(str(msg.get("op_id")), None)
            if fut is not None and not fut.done():
                fut.set_result(msg)
        elif kind == "error":
            self.errors.append(msg)
        elif kind == "presence" and self.state is not None:
            self.state["participants"].update(msg["participants"])
        self._notify()

    async def send(self, obj: Any) -> None:
        assert self.ws is not None
        await self.ws.send(obj if isinstance(obj, str | bytes) else orjson.dumps(obj).decode())

    async def hello(self, within: float = 10.0, **fields: Any) -> dict[str, Any]:
        """Send a hello and wait for the welcome; Refused if the server says no."""
        if self.ws is None or self.close_code is not None or self._reader_done():
            await self.connect()
        frames_before = len(self.frames)
        await self.send({"type": "hello", **fields})

        def answered() -> bool:
            return any(f["type"] in ("welcome", "error") for f in self.frames[frames_before:])

        await self.wait_for(answered, within, allow_closed=True)
        for f in self.frames[frames_before:]:
            if f["type"] == "welcome":
                return f
            if f["type"] == "error":
                code = await self.wait_closed(within)
                raise Refused(code, f["error"])
        raise Refused(self.close_code, None)

    def _reader_done(self) -> bool:
        return self._reader is None or self._reader.done()

    async def join(self, code: str, *, token: str | None = None, since: int | None = None,
                   lang: str | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"role": "participant", "code": code, "token": token,
                                  "since": since}
        if lang:
            fields["lang"] = lang
        self.hello_fields = fields
        return await self.hello(**fields)

    async def staff(self, role: str, workshop: str, key: str, *, since: int | None = None,
                    lang: str | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"role": role, "workshop": workshop, "key": key,
                                  "since": since}
        if lang:
            fields["lang"] = lang
        self.hello_fields = fields
        return await self.hello(**fields)

    async def resume(self, *, since: int | None = -1) -> dict[str, Any]:
        """Reconnect on a new socket with the same identity; `since` defaults to our seq."""
        await self.drop()
        fields = dict(self.hello_fields)
        if fields.get("role") == "participant":
            fields["token"] = self.token
        fields["since"] = self.seq if since == -1 else since
        return await self.hello(**fields)

    async def twin(self) -> Client:
        """A fresh socket with the same identity and no `since` (a page reload)."""
        other = Client(self.ws_url.replace("ws", "http", 1).rsplit("/ws", 1)[0],
                       name=f"{self.name}-twin", origin=self.origin)
        fields = {**self.hello_fields, "since": None}
        if fields.get("role") == "participant":
            fields["token"] = self.token
        await other.hello(**fields)
        other.hello_fields = fields
        return other

    async def drop(self) -> None:
        """Close the socket from our side (as a phone that loses its Wi-Fi)."""
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    close = drop

    # -- ops
    def new_op_id(self) -> str:
        return f"{self._op_prefix}-{next(self._op_counter)}"

    async def op(self, op: str, args: dict[str, Any] | None = None, *, op_id: str | None = None,
                 within: float = 10.0) -> dict[str, Any]:
        """Send one op; returns its ack or nack frame."""
        op_id = op_id or self.new_op_id()
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[op_id] = fut
        await self.send({"type": "op", "op_id": op_id, "op": op, "args": args or {}})
        try:
            return await asyncio.wait_for(fut, within)
        finally:
            self._pending.pop(op_id, None)

    async def ok(self, op: str, args: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        """An op that must be acked; returns the ack."""
        answer = await self.op(op, args, **kw)
        assert answer["type"] == "ack", f"{self.name}: {op} {args} -> {answer}"
        return answer

    async def refused(self, op: str, args: dict[str, Any] | None = None,
                      **kw: Any) -> dict[str, Any]:
        """An op that must be nacked; returns the error body."""
        answer = await self.op(op, args, **kw)
        assert answer["type"] == "nack", f"{self.name}: {op} {args} -> {answer}"
        assert set(answer["error"]) >= {"code", "message"}, answer
        error: dict[str, Any] = answer["error"]
        return error

    # -- waiting
    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0, *,
                       allow_closed: bool = False, what: str = "") -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not predicate():
            if not allow_closed and self._reader_done():
                raise AssertionError(
                    f"{self.name}: socket closed ({self.close_code} {self.close_reason}) "
                    f"while waiting for {what or predicate}")
            if allow_closed and self._reader_done():
                return
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"{self.name}: timed out waiting for {what or predicate}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def wait_seq(self, seq: int, within: float = 10.0) -> None:
        await self.wait_for(lambda: self.seq >= seq, within, what=f"seq {seq}")

    async def wait_event(self, kind: str, pred: Callable[[dict[str, Any]], bool] | None = None,
                         within: float = 10.0, start: int = 0) -> dict[str, Any]:
        """The first event of `kind` (from index `start` of self.events) matching pred."""
        found: list[dict[str, Any]] = []

        def seen() -> bool:
            for ev in self.events[start:]:
                if ev["kind"] == kind and (pred is None or pred(ev["data"])):
                    found.append(ev)
                    return True
            return False

        await self.wait_for(seen, within, what=f"event {kind}")
        return found[0]

    async def wait_closed(self, within: float = 10.0) -> int | None:
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reader), within)
        return self.close_code

    async def ping(self, within: float = 10.0) -> None:
        """A ping/pong round trip: the server still serves this socket."""
        t = secrets.token_hex(4)
        start = len(self.frames)
        await self.send({"type": "ping", "t": t})
        await self.wait_for(
            lambda: any(f["type"] == "pong" and f.get("t") == t for f in self.frames[start:]),
            within, what="pong")


async def close_all(*clients: Client) -> None:
    await asyncio.gather(*(c.drop() for c in clients), return_exceptions=True)

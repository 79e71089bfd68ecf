"""The WebSocket endpoint: hello, welcome (snapshot or replay), ops, and the send pump."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any, NoReturn

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from server import keys, protocol
from server.admission import MAX_BOOKED_WAIT_MS, Admission
from server.config import Settings
from server.errors import DomainError, pick_language
from server.fanout import Client, SlowClient, coalesce, frame
from server.hub import Feed, Hub
from server.ratelimit import Limiter, TokenBucket
from server.rules import OPS, clean_args, may
from server.security import origin_allowed as same_origin
from server.store import STORE_ERRORS, Store
from server.views import Viewer, view_event, view_state

log = logging.getLogger("samenspel.sockets")

REPLAY_MAX = 2000  # more missed events than this: a fresh snapshot is cheaper


class Refused(Exception):
    def __init__(self, code: int, error: DomainError) -> None:
        super().__init__(error.code)
        self.close_code = code
        self.error = error


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """The Origin must be this app's own (or one allowed in settings): the same rule as
    for every state-changing HTTP request (server/security.py)."""
    return same_origin(websocket.headers.get("origin"), websocket.headers.get("host"), settings)


async def ws_endpoint(websocket: WebSocket) -> None:
    state = websocket.app.state
    if not origin_allowed(websocket, state.settings):
        await websocket.close(code=1008)
        return
    await websocket.accept()
    session = Session(websocket, state.hub, state.store, state.limiter, state.settings)
    await session.run()


class Session:
    def __init__(
        self, websocket: WebSocket, hub: Hub, store: Store, limiter: Limiter, settings: Settings
    ) -> None:
        self.ws = websocket
        self.hub = hub
        self.store = store
        self.limiter = limiter
        self.settings = settings
        self.admission = Admission(limiter, settings)
        self.lang = "nl"
        self.address = websocket.client.host if websocket.client else None
        self.bucket = TokenBucket(rate=20, burst=60)
        # Frames refused as too fast before the socket is closed: bursts of 200, 20 a second
        # (a phone that resends its outbox every few seconds drains it and is never closed).
        # A count reset by every accepted frame would let a steady flood go on for ever: the
        # bucket lets one frame through every 50 ms.
        self.patience = TokenBucket(rate=20, burst=200)

    async def send(self, data: bytes) -> None:
        await self.ws.send_text(data.decode())

    async def close(self, code: int, reason: str = "") -> None:
        if self.ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(code=code, reason=reason)

    async def receive(self) -> str | None:
        msg = await self.ws.receive()
        if msg["type"] == "websocket.disconnect":
            return None
        text = msg.get("text")
        if text is None:
            return ""  # a binary frame: never valid
        return str(text)

    async def run(self) -> None:
        try:
            try:
                raw = await asyncio.wait_for(self.receive(), protocol.HELLO_SECONDS)
            except TimeoutError:
                await self.refuse(protocol.CLOSE_MALFORMED, DomainError("hello_timeout"))
                return
            if raw is None:
                return
            try:
                first = protocol.parse_frame(raw)
                if first.get("lang") in ("nl", "en"):
                    self.lang = first["lang"]  # a refused hello is refused in its language
                hello = protocol.parse_hello(first)
            except DomainError as err:
                await self.refuse(protocol.CLOSE_MALFORMED, err)
                return
            self.lang = pick_language(hello.lang) if hello.lang else "nl"
            try:
                await self.serve(hello)
            except Refused as refused:
                await self.refuse(refused.close_code, refused.error)
        except WebSocketDisconnect:
            pass
        except STORE_ERRORS:
            await self.refuse(1013, DomainError("try_again"))

    async def refuse(self, code: int, err: DomainError) -> None:
        with contextlib.suppress(Exception):
            await self.send(protocol.error_frame(err, self.lang))
        await self.close(code, err.code)

    async def fail(
        self, close_code: int, error: DomainError, *, limited: bool, guess: bool = False
    ) -> NoReturn:
        """Count a failed join or key for this address and refuse it: with 4429 when the
        address is over its limit (so the answer says nothing about what was tried)."""
        await self.admission.failed(self.address, guess=guess)
        if limited:
            raise Refused(protocol.CLOSE_TOO_MANY, DomainError("too_many_attempts"))
        raise Refused(close_code, error)

    async def wait_turn(self) -> None:
        """A new phone from a busy address waits its turn (never refused): the socket
        stays open, a `wait` frame says how long, and the hello is answered after."""
        while True:
            wait_ms, booked = await self.admission.join_turn(self.address)
            if wait_ms <= 0:
                return
            await self.send(orjson.dumps({"type": "wait", "retry_after_ms": wait_ms}))
            if booked:
                await asyncio.sleep(wait_ms / 1000)
                return
            # Not booked (too far ahead): ask again once a turn may be bookable, each
            # phone at its own moment.
            await asyncio.sleep((wait_ms - MAX_BOOKED_WAIT_MS) / 1000 + random.random())

    async def serve(self, hello: protocol.Hello) -> None:
        # Over the failure limit, an address may still come in with a valid token, key or
        # QR-link secret (they cannot be guessed); only a typed code is refused for a
        # while, so that one hall behind one address is not locked out by a few typos.
        limited = await self.admission.limited(self.address)
        token: str | None = None
        pid: str | None = None
        if hello.role == "participant":
            assert hello.code is not None
            workshop_id = await self.store.workshop_for_code(hello.code)
            feed = await self.hub.feed(workshop_id) if workshop_id else None
            by_link = feed is not None and await self.store.check_join_secret(
                feed.workshop_id, hello.join_secret)
            if not hello.token and not by_link:
                refused = await self.admission.refused_code(self.address)
                if refused:
                    raise Refused(protocol.CLOSE_TOO_MANY, DomainError(refused))
            if feed is None:
                await self.fail(protocol.CLOSE_NOT_FOUND, DomainError("no_code"),
                                limited=limited, guess=not hello.token)
            if hello.token:
                pid = await self.store.participant_for_token(feed.workshop_id, hello.token)
                if pid is None:
                    await self.fail(protocol.CLOSE_WRONG_KEY, DomainError("wrong_token"),
                                    limited=limited)
                token = hello.token
            else:
                ws = feed.room["workshop"]
                if ws["phase"] == "closed":
                    raise Refused(protocol.CLOSE_NOT_FOUND, DomainError("no_code"))
                await self.wait_turn()
                try:
                    # The lock is checked by the join script, atomically: this process's
                    # room may be a tick behind a lock or unlock that was just acked.
                    pid, token = await self.store.join(feed.workshop_id)
                except DomainError as err:
                    code = protocol.CLOSE_LOCKED if err.code == "locked" else (
                        protocol.CLOSE_NOT_FOUND)
                    raise Refused(code, err) from None
            role = "participant"
        else:
            assert hello.workshop is not None
            feed = await self.hub.feed(hello.workshop)
            if feed is None:
                await self.fail(protocol.CLOSE_NOT_FOUND, DomainError("no_workshop"),
                                limited=limited)
            granted = await self.store.check_key(
                feed.workshop_id, hello.key, view=hello.role == "projector"
            )
            if granted is None:
                await self.fail(protocol.CLOSE_WRONG_KEY, DomainError("wrong_key"),
                                limited=limited)
            role = hello.role
        if not hello.lang:
            self.lang = pick_language(feed.room["workshop"]["settings"].get("language"))
        viewer = Viewer(role, pid)
        client = Client(viewer, self.send, self.close, self.hub.queue_max)
        await self.welcome(feed, client, hello, token)
        pump = asyncio.create_task(client.pump())
        try:
            await self.loop(feed, client)
        finally:
            self.hub.detach(feed, client)
            with contextlib.suppress(asyncio.QueueFull):
                client.queue.put_nowait(None)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
            if pid:
                await self.hub.participant_left(feed.workshop_id, pid)

    async def welcome(
        self, feed: Feed, client: Client, hello: protocol.Hello, token: str | None
    ) -> None:
        you = {"role": client.viewer.role, "participant_id": client.viewer.pid, "token": token}
        since = hello.since
        replay: list[bytes] = []
        state: dict[str, Any] | None = None
        if since is not None and since <= feed.position and feed.position - since <= REPLAY_MAX:
            last = since
            while last < feed.position:
                target = feed.position
                events = await self.store.events_after(feed.workshop_id, last, target - last)
                if not events or events[0].seq != last + 1:
                    state = {}  # trimmed past `since`: a snapshot instead
                    break
                events = [e for e in events if e.seq <= target]
                missed = self.replay_frame(feed, client.viewer, events)
                if missed is not None:
                    replay.append(missed)
                last = events[-1].seq
            if state is None:
                client.last_seq = last
                seq = since
        elif since is not None and since > feed.position:
            # This process is a tick behind the client: wait for the stream to catch up.
            stored = await self.store.redis.hget(keys.workshop_key(feed.workshop_id, "meta"), "seq")
            if stored is not None and since <= int(stored):
                client.last_seq = since
                seq = since
            else:
                state = {}
        else:
            state = {}
        if state is not None:
            state = view_state(feed.room, client.viewer)
            seq = feed.position
            client.last_seq = seq
            replay = []
        welcome = orjson.dumps({
            "type": "welcome", "workshop": feed.workshop_id, "you": you, "seq": seq,
            "state": state,
        })
        client.push(welcome)
        for missed in replay:
            client.push(missed)
        if not self.hub.store_ok:
            client.push(protocol.status_frame(False))  # a screen opened while it cannot save
        self.hub.attach(feed, client)

    def replay_frame(self, feed: Feed, viewer: Viewer, events: list[Any]) -> bytes | None:
        """Missed events for one client, cut with today's visibility (the room is newer)."""
        cache: dict[str, Any] = {}
        items = [(e.seq, e.kind, view_event(feed.room, e, viewer, cache)) for e in events]
        kept = coalesce(items, feed.room, viewer, cache)
        return frame(kept) if kept else None

    async def loop(self, feed: Feed, client: Client) -> None:
        try:
            await self._loop(feed, client)
        except SlowClient:
            await self.close(protocol.CLOSE_TOO_SLOW, "too slow")

    async def _loop(self, feed: Feed, client: Client) -> None:
        while True:
            raw = await self.receive()
            if raw is None or client.dropped:
                return
            if not self.bucket.take():
                if not self.patience.take():
                    await self.refuse(protocol.CLOSE_TOO_MANY, DomainError("too_fast"))
                    return
                op_id = _op_id_of(raw)
                client.push(protocol.nack(op_id, "too_fast", self.lang))
                continue
            try:
                data = protocol.parse_frame(raw)
            except DomainError as err:
                client.push(protocol.error_frame(err, self.lang))
                continue
            kind = data["type"]
            if kind == "op":
                client.push(await self.handle_op(feed, client.viewer, data))
            elif kind == "ping":
                t = data.get("t")  # echoed only as a scalar: a nested one may not serialize
                client.push(orjson.dumps({"type": "pong", "t": None if isinstance(t, list | dict)
                                          else t}))
            else:
                unknown = DomainError("unknown_type", type=str(kind)[:40])
                client.push(protocol.error_frame(unknown, self.lang))

    async def handle_op(self, feed: Feed, viewer: Viewer, data: dict[str, Any]) -> bytes:
        op_id = data.get("op_id")
        if not isinstance(op_id, str) or not 1 <= len(op_id) <= 64:
            return protocol.nack(
                op_id if isinstance(op_id, str | int) else None, "bad_args", self.lang,
                {"field": "op_id"},
            )
        op = data.get("op")
        if not isinstance(op, str) or op not in OPS:
            shown = str(op)[:40] if not isinstance(op, list | dict) else type(op).__name__
            return protocol.nack(op_id, "unknown_op", self.lang, {"op": shown})
        if not may(viewer.role, op):
            return protocol.nack(op_id, "not_allowed", self.lang)
        try:
            args = clean_args(op, data.get("args", {}), feed.room["workshop"]["settings"])
        except DomainError as err:
            return protocol.nack(op_id, err.code, self.lang, err.params)
        actor = viewer.pid or ""
        answer_key = f"{viewer.role[0]}:{actor}:{op_id}"
        try:
            answer = await self.store.run(
                feed.workshop_id, op, args, role=viewer.role, actor=actor, answer_key=answer_key
            )
        except STORE_ERRORS:
            self.hub.store_failed()
            return protocol.nack(op_id, "try_again", self.lang)
        self.hub.store_answered()
        if answer.ok:
            return protocol.ack(op_id, answer.seq, answer.result)
        return protocol.nack(op_id, answer.code, self.lang, answer.params)


def _op_id_of(raw: str) -> Any:
    with contextlib.suppress(Exception):
        data = orjson.loads(raw)
        if isinstance(data, dict) and isinstance(data.get("op_id"), str):
            return data["op_id"][:64]
    return None


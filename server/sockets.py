"""The WebSocket endpoint: one Session per socket, in three steps, each its own module.

1. admission (server/socket_admission.py): the hello's code, token or key checked;
2. catch-up (server/catchup.py): the welcome, a snapshot or the missed events;
3. the op loop (server/op_loop.py): frames answered until the socket closes,
while the client's send pump (server/fanout.py) writes what the hub and the loop queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server import language, protocol
from server.admission import Admission
from server.catchup import welcome
from server.config import Settings
from server.errors import DomainError
from server.fanout import Client, SlowClient
from server.hub import Feed, Hub
from server.op_loop import OpLoop
from server.security import origin_allowed as same_origin
from server.socket_admission import Refused, SocketAdmission
from server.store import STORE_ERRORS, Store

log = logging.getLogger("samenspel.sockets")


def origin_allowed(scope: Scope, settings: Settings) -> bool:
    """The Origin must be this app's own (or one allowed in settings): the same rule as
    for every state-changing HTTP request (server/security.py)."""
    headers = Headers(scope=scope)
    return same_origin(headers.get("origin"), headers.get("host"), settings)


async def ws_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    """The endpoint as a bare ASGI app: server/app.py calls it before the middlewares.
    Few objects and frames stay for a socket's life (each costs its memory): this frame,
    Session.run's, the op loop's and its receive; the Session, without a Starlette
    WebSocket around the server's own receive and send."""
    state = scope["app"].state
    if not origin_allowed(scope, state.settings):
        await send({"type": "websocket.close", "code": 1008, "reason": ""})
        return
    if (await receive())["type"] != "websocket.connect":
        return  # gone before the handshake
    await send({"type": "websocket.accept"})
    forget_handshake(scope, receive)
    await Session(scope, receive, send, state.hub, state.store, state.admission).run()


def forget_handshake(scope: Scope, receive: Receive) -> None:
    """The handshake is over (the origin checked, the address read, the 101 sent): its
    request and response are not kept for the socket's life. uvicorn's websockets-sansio
    protocol (the Procfile's and `python -m server`'s) holds both with their headers, and
    the scope a copy of the request's headers: ~3 KB a socket of a hall's idle memory
    (docs/benchmarks.md, "Issue 14")."""
    scope["headers"] = []
    proto = getattr(receive, "__self__", None)
    if isinstance(proto, WebSocketsSansIOProtocol):
        proto.request = proto.response = None  # type: ignore[assignment]


async def ws_endpoint(socket: WebSocket) -> None:
    """The same as a Starlette route (for the router; App takes /ws before it)."""
    await ws_asgi(socket.scope, socket.receive, socket.send)


class Session:
    __slots__ = ("_receive", "_send", "admission", "closed", "hub", "lang", "store")

    def __init__(self, scope: Scope, receive: Receive, send: Send, hub: Hub, store: Store,
                 admission: Admission) -> None:
        self._receive = receive  # the server's own: no wrapper while idle
        self._send = send
        self.closed = False  # a close was sent: nothing more may be
        self.hub = hub
        self.store = store
        self.lang = language.DEFAULT_LANGUAGE
        client = scope.get("client")
        address = client[0] if client else None
        self.admission = SocketAdmission(admission, hub, store, address, self.send)

    async def send(self, data: bytes) -> None:
        if self.closed:
            raise RuntimeError("the socket was closed")
        try:
            await self._send({"type": "websocket.send", "text": data.decode()})
        except OSError:  # the client is gone (as Starlette's WebSocket says it)
            self.closed = True
            raise WebSocketDisconnect(1006) from None

    async def close(self, code: int, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                await self._send({"type": "websocket.close", "code": code, "reason": reason})

    async def receive(self) -> str | None:
        msg = await self._receive()
        if msg["type"] == "websocket.disconnect":
            return None
        text = msg.get("text")
        if text is None:
            return ""  # a binary frame: never valid
        return str(text)

    async def refuse(self, code: int, err: DomainError) -> None:
        with contextlib.suppress(Exception):
            await self.send(protocol.error_frame(err, self.lang))
        await self.close(code, err.code)

    async def run(self) -> None:
        try:
            hello = await self.hello()
            if hello is None:
                return
            try:
                feed, client = await self.admit(hello)
            except Refused as refused:
                await self.refuse(refused.close_code, refused.error)
                return
            del hello  # not kept for the socket's life
            # The op loop runs in this frame, not a method's own: one frame less a socket.
            pump = asyncio.create_task(client.pump())
            try:
                await OpLoop(self.hub, self.store, self.lang, self.receive, self.refuse).run(
                    feed, client)
            except SlowClient:
                await self.close(protocol.CLOSE_TOO_SLOW, "too slow")
            finally:
                self.hub.detach(feed, client)
                with contextlib.suppress(asyncio.QueueFull):
                    client.queue.put_nowait(None)
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump
                if client.viewer.pid:
                    await self.hub.participant_left(feed.workshop_id, client.viewer.pid)
        except WebSocketDisconnect:
            pass
        except STORE_ERRORS:
            await self.refuse(1013, DomainError("try_again"))

    async def hello(self) -> protocol.Hello | None:
        """The first frame, which must be a valid hello in time; None: refused or gone."""
        try:  # (a timeout, not wait_for: no task of its own for every hello)
            async with asyncio.timeout(protocol.HELLO_SECONDS):
                raw = await self.receive()
        except TimeoutError:
            await self.refuse(protocol.CLOSE_MALFORMED, DomainError("hello_timeout"))
            return None
        if raw is None:
            return None
        try:
            first = protocol.parse_frame(raw)
            # A refused hello is refused in its language.
            self.lang = language.exact(first.get("lang")) or self.lang
            return protocol.parse_hello(first)
        except DomainError as err:
            await self.refuse(protocol.CLOSE_MALFORMED, err)
            return None

    async def admit(self, hello: protocol.Hello) -> tuple[Feed, Client]:
        """Admission, then the welcome queued and the client attached to its feed."""
        self.lang = language.pick_language(hello.lang) if hello.lang else self.lang
        feed, viewer, token = await self.admission.admit(hello)
        if not hello.lang:
            self.lang = language.pick_language(feed.room["workshop"]["settings"].get("language"))
        client = Client(viewer, self.send, self.close, self.hub.queue_max)
        await welcome(self.hub, self.store, feed, client, hello.since, token)
        return feed, client

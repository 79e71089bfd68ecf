"""An idle socket keeps nothing of its handshake (issue 14, idle memory per connection at
most 25 KB): once the socket is accepted, uvicorn's websockets-sansio protocol lets its
request and response go and the scope its copy of the headers (~2.8 KB a socket:
docs/benchmarks.md, "Idle memory, third pass"). In-process, to look at uvicorn's own
connection objects; the socket works as before."""

from __future__ import annotations

import asyncio

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server.app import create_app
from server.config import Settings
from tests.support import Client, close_all, create_workshop, eventually, free_port
from tests.support.processes import TEST_SETTINGS


async def test_an_accepted_socket_lets_its_handshake_go(redis_url: str) -> None:
    port = free_port()
    # As every test server (its per-address limits off: every test comes from
    # 127.0.0.1, on a Redis whose counters outlive one test).
    app = create_app(Settings.from_env({"REDIS_URL": redis_url, **TEST_SETTINGS}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on",
                                           ws="websockets-sansio", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        async def started() -> bool:
            return server.started

        await eventually(started, 30, what="the server started")
        base = f"http://127.0.0.1:{port}"
        w = await create_workshop(base)
        phone = Client(base, name="phone")
        await phone.join(w["code"])
        sockets = [p for p in server.server_state.connections
                   if isinstance(p, WebSocketsSansIOProtocol)]
        assert len(sockets) == 1, server.server_state.connections
        held = sockets[0]
        assert held.request is None and held.response is None  # type: ignore[comparison-overlap]
        assert held.scope["headers"] == []
        # The socket goes on as before.
        ack = await phone.ok("add_note", {"prompt_id": "q1", "text": "Een bankje bij de vijver"})
        assert ack["result"]["note_id"]
        await close_all(phone)
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)

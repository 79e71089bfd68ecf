"""The baseline: a bare broadcast server on the `websockets` library and uvloop, with no
Redis, no rules and no roles, to show what this machine can do with the same load.

It speaks just enough of the protocol for the load generator: a `hello` gets a
`welcome` (with a token), an `add_note` op gets an `ack` and the note, as a
`note_added` event, is broadcast at once to every socket of the same room (the hello's
`code`, or `workshop` for the wall and the facilitator; one frame per note, no
batching); any other op gets an empty ack.

    python -m bench.baseline --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import time

import orjson
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

ROOMS: dict[str, set[ServerConnection]] = {}
SEQ = itertools.count(1)
LAST = 0


async def handler(ws: ServerConnection) -> None:
    global LAST
    try:
        hello = orjson.loads(await asyncio.wait_for(ws.recv(decode=False), 10))
    except (TimeoutError, ConnectionClosed, orjson.JSONDecodeError):
        return
    token = hello.get("token") or secrets.token_urlsafe(24)
    you = {"role": hello.get("role"), "participant_id": "p" + token[:8], "token": token}
    await ws.send(orjson.dumps({"type": "welcome", "workshop": "baseline", "you": you,
                                "seq": LAST, "state": None}).decode())
    room = str(hello.get("code") or hello.get("workshop") or "")
    if room.startswith("baseline"):
        room = room.removeprefix("baseline")
    clients = ROOMS.setdefault(room, set())
    clients.add(ws)
    try:
        async for raw in ws:
            msg = orjson.loads(raw)
            if msg.get("type") != "op":
                continue
            op_id = msg.get("op_id")
            if msg.get("op") == "add_note":
                seq = next(SEQ)
                LAST = seq
                note_id = secrets.token_urlsafe(12)
                args = msg.get("args") or {}
                await ws.send(orjson.dumps({"type": "ack", "op_id": op_id, "seq": seq,
                                            "result": {"note_id": note_id}}).decode())
                note = {"id": note_id, "prompt_id": args.get("prompt_id"),
                        "text": args.get("text"), "cluster_id": None, "hidden": False,
                        "created_at": int(time.time() * 1000), "author": None}
                event = {"seq": seq, "kind": "note_added",
                         "data": {"note_id": note_id, "hidden": False, "note": note}}
                broadcast(clients, orjson.dumps({"type": "events", "events": [event]}).decode())
            else:
                await ws.send(orjson.dumps({"type": "ack", "op_id": op_id, "seq": None,
                                            "result": {}}).decode())
    except ConnectionClosed:
        pass
    finally:
        clients.discard(ws)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, max_size=16 * 1024,
                     backlog=4096):
        await asyncio.Future()


if __name__ == "__main__":
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    uvloop.run(main(parser.parse_args().port))

"""A socket's frames after its welcome: the rate of frames, then each op checked (id,
name, role, arguments) and run as one store script, answered with an ack or a nack.

A frame over the rate gets a `too_fast` nack; a socket that keeps flooding past its
patience is closed with 4429. A ping gets a pong.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from server import metrics, protocol
from server.args import clean_args
from server.errors import DomainError
from server.fanout import Client
from server.hub import Feed, Hub
from server.ratelimit import TokenBucket
from server.rules import OPS, QUERY_OPS, may
from server.store import STORE_ERRORS, Store
from server.suggestions import similar_notes, suggest_themes
from server.views import Viewer

FRAMES_PER_SECOND = 20
FRAME_BURST = 60
# Frames refused as too fast before the socket is closed: bursts of 200, 20 a second
# (a phone that resends its outbox every few seconds drains it and is never closed).
# A count reset by every accepted frame would let a steady flood go on for ever: the
# bucket lets one frame through every 50 ms.
PATIENCE_BURST = 200
# A sorting question waits up to 1 s for the room to apply the socket's own last change.
ROOM_WAIT_STEP = 0.01
ROOM_WAIT_STEPS = 100


class OpLoop:
    __slots__ = ("acked", "bucket", "hub", "lang", "patience", "question", "receive", "refuse",
                 "store")

    def __init__(self, hub: Hub, store: Store, lang: str,
                 receive: Callable[[], Awaitable[str | None]],
                 refuse: Callable[[int, DomainError], Awaitable[None]]) -> None:
        self.hub = hub
        self.store = store
        self.lang = lang
        self.receive = receive
        self.refuse = refuse
        self.bucket = TokenBucket(rate=FRAMES_PER_SECOND, burst=FRAME_BURST)
        self.patience = TokenBucket(rate=FRAMES_PER_SECOND, burst=PATIENCE_BURST)
        # The sorting help's question in flight (one per socket): answered beside the
        # socket's other frames, which do not wait for the model.
        self.question: asyncio.Task[None] | None = None
        self.acked = 0  # the newest seq acked on this socket (a question sees it applied)

    async def run(self, feed: Feed, client: Client) -> None:
        """Answer frames until the socket or the client ends."""
        while True:
            raw = await self.receive()
            if raw is None or client.dropped:
                return
            if not self.bucket.take():
                metrics.rate_limited("ops")
                if not self.patience.take():
                    await self.refuse(protocol.CLOSE_TOO_MANY, DomainError("too_fast"))
                    return
                client.push(protocol.nack(_op_id_of(raw), "too_fast", self.lang))
                continue
            try:
                data = protocol.parse_frame(raw)
            except DomainError as err:
                client.push(protocol.error_frame(err, self.lang))
                continue
            kind = data["type"]
            if kind == "op" and isinstance(data.get("op"), str) and data["op"] in QUERY_OPS:
                self.ask(feed, client, data)
            elif kind == "op":
                client.push(await self.handle_op(feed, client.viewer, data))
            elif kind == "ping":
                t = data.get("t")  # echoed only as a scalar: a nested one may not serialize
                client.push(orjson.dumps({"type": "pong", "t": None if isinstance(t, list | dict)
                                          else t}))
            else:
                unknown = DomainError("unknown_type", type=str(kind)[:40])
                client.push(protocol.error_frame(unknown, self.lang))

    def ask(self, feed: Feed, client: Client, data: dict[str, Any]) -> None:
        """A question for the sorting help: answered by its own task, one at a time."""
        if self.question is not None and not self.question.done():
            op_id = data.get("op_id")
            client.push(protocol.nack(op_id if isinstance(op_id, str) else None,
                                      "sorting_busy", self.lang))
            return

        async def answer() -> None:
            frame = await self.handle_op(feed, client.viewer, data)
            if not client.dropped:
                with contextlib.suppress(Exception):
                    client.push(frame)

        self.question = asyncio.create_task(answer(), name="sorting-question")

    async def handle_op(self, feed: Feed, viewer: Viewer, data: dict[str, Any]) -> bytes:
        op_id = data.get("op_id")
        if not isinstance(op_id, str) or not 1 <= len(op_id) <= 64:
            metrics.op_answered(str(data.get("op")), "bad_args")
            return protocol.nack(
                op_id if isinstance(op_id, str | int) else None, "bad_args", self.lang,
                {"field": "op_id"},
            )
        op = data.get("op")
        if not isinstance(op, str) or op not in OPS:
            shown = str(op)[:40] if not isinstance(op, list | dict) else type(op).__name__
            metrics.op_answered(metrics.OTHER, "unknown_op")
            return protocol.nack(op_id, "unknown_op", self.lang, {"op": shown})
        if not may(viewer.role, op):
            metrics.op_answered(op, "not_allowed")
            return protocol.nack(op_id, "not_allowed", self.lang)
        try:
            args = clean_args(op, data.get("args", {}), feed.room["workshop"]["settings"])
        except DomainError as err:
            metrics.op_answered(op, err.code)
            return protocol.nack(op_id, err.code, self.lang, err.params)
        if op in QUERY_OPS:
            # Read your own writes: the room applies the socket's last change first.
            for _ in range(ROOM_WAIT_STEPS):
                if feed.position >= self.acked:
                    break
                await asyncio.sleep(ROOM_WAIT_STEP)
            started = time.perf_counter()
            try:
                if op == "suggest_themes":
                    result = await suggest_themes(feed.room, args, self.hub.sorting)
                else:
                    result = await similar_notes(feed.room, args, viewer, self.hub.sorting)
            except DomainError as err:
                metrics.op_answered(op, err.code)
                return protocol.nack(op_id, err.code, self.lang, err.params)
            metrics.op_answered(op, "ok", time.perf_counter() - started)
            return protocol.ack(op_id, None, result)
        actor = viewer.pid or ""
        answer_key = f"{viewer.role[0]}:{actor}:{op_id}"
        started = time.perf_counter()
        try:
            answer = await self.store.run(
                feed.workshop_id, op, args, role=viewer.role, actor=actor, answer_key=answer_key
            )
        except STORE_ERRORS:
            self.hub.store_failed()
            metrics.op_answered(op, "try_again")
            return protocol.nack(op_id, "try_again", self.lang)
        self.hub.store_answered()
        metrics.op_answered(op, "ok" if answer.ok else answer.code,
                            time.perf_counter() - started)
        if answer.ok:
            self.acked = max(self.acked, answer.seq or 0)
            return protocol.ack(op_id, answer.seq, answer.result)
        return protocol.nack(op_id, answer.code, self.lang, answer.params)


def _op_id_of(raw: str) -> Any:
    with contextlib.suppress(Exception):
        data = orjson.loads(raw)
        if isinstance(data, dict) and isinstance(data.get("op_id"), str):
            return data["op_id"][:64]
    return None

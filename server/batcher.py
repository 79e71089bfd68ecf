"""Script calls to Redis, sent in pipelines: every call made in one turn of the event
loop goes out in one round trip.

A vote storm is a thousand phones each sending an op at once. One EVALSHA per op costs
the process a pool checkout, a write, a read and a parse each; the same ops in one
non-transactional pipeline cost one of each per batch, and Redis still runs every
script on its own, atomically, in the order sent. A batch fails as a whole only when
the connection does (every caller then answers `try_again`; the op ids make a resend
safe, as for a single call).
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

MAX_BATCH = 200  # calls per pipeline; a larger burst goes out as several, side by side
Keys = list[str] | list[bytes]


class ScriptBatcher:
    def __init__(self, redis: Any, script: AsyncScript) -> None:
        self.redis = redis
        self.script = script
        self._pending: list[tuple[Keys, list[Any], asyncio.Future[Any]]] = []
        self._scheduled = False
        self._sending: set[asyncio.Task[None]] = set()

    async def call(self, keys: Keys, args: list[Any]) -> Any:
        """The script's reply for these keys and args (raises what the call raised)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((keys, args, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), MAX_BATCH):
            task = asyncio.create_task(self._send(pending[start:start + MAX_BATCH]))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[Keys, list[Any], asyncio.Future[Any]]]) -> None:
        try:
            if len(batch) == 1:
                keys, args, _ = batch[0]
                replies: list[Any] = [await self._one(keys, args)]
            else:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for keys, args, _ in batch:
                        pipe.evalsha(self.script.sha, len(keys), *keys, *args)
                    replies = await pipe.execute(raise_on_error=False)
                for i, reply in enumerate(replies):
                    if isinstance(reply, NoScriptError):  # Redis lost its scripts: not run
                        keys, args, _ = batch[i]
                        replies[i] = await self._one(keys, args)
        except BaseException as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, _, future), reply in zip(batch, replies, strict=True):
            if future.done():  # its caller went away (cancelled)
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _one(self, keys: Keys, args: list[Any]) -> Any:
        try:  # (redis-py loads the script and retries on NOSCRIPT here)
            return await self.script(keys=keys, args=args)
        except Exception as exc:
            return exc


Command = tuple[Any, ...]


class CommandBatcher:
    """Plain commands (the reads of a join: limits, the code, a token, a key) sent the
    same way: every command asked in one turn of the event loop goes out in one
    non-transactional pipeline. A hall scanning the QR code at once is a few hundred
    joins in flight, each asking Redis a few things: one round trip for all of them
    instead of one each (docs/benchmarks.md, "Issue 14: a bigger hall")."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self._pending: list[tuple[Command, asyncio.Future[Any]]] = []
        self._scheduled = False
        self._sending: set[asyncio.Task[None]] = set()

    async def call(self, *command: Any) -> Any:
        """The reply to one command, e.g. call("GET", key)."""
        return await self.queue(command)

    async def call_all(self, commands: list[Command]) -> list[Any]:
        """The replies to several commands, sent in the same round trip."""
        futures = [self.queue(c) for c in commands]
        return [await f for f in futures]

    def queue(self, command: Command) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((command, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), MAX_BATCH):
            task = asyncio.create_task(self._send(pending[start:start + MAX_BATCH]))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[Command, asyncio.Future[Any]]]) -> None:
        try:
            if len(batch) == 1:
                replies: list[Any] = [await self.redis.execute_command(*batch[0][0])]
            else:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for command, _ in batch:
                        pipe.execute_command(*command)
                    replies = await pipe.execute(raise_on_error=False)
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), reply in zip(batch, replies, strict=True):
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

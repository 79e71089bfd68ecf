"""Script calls to Redis, sent in pipelines: every call made in one turn of the event
loop goes out in one round trip.

One EVALSHA per op costs a pool checkout, a write, a read and a parse each; a
non-transactional pipeline, one of each per batch, and Redis still runs every script
on its own, atomically, in order. A batch fails as a whole only when the connection
does (every caller answers `try_again`; op ids make a resend safe). On a Redis Cluster
the pipeline goes out as one per node, side by side (routed by each call's slot).

On one Redis the batch is packed here, not by redis-py (`Packer`): a script call's keys
are the same for every op of a workshop and most of its arguments are the same for
every op at all, so their RESP bytes are made once; redis-py's pipeline encoded and
framed all 26 arguments of every call again (a fifth of a vote storm's CPU). The
connection is still redis-py's: taken from its pool, with its retries, timeouts,
health checks and reply parser (`send_packed`).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

MAX_BATCH = 200  # calls per pipeline; a larger burst goes out as several, side by side
# How long a WAIT for replicas may take (below the connections' read timeout).
WAIT_TIMEOUT_MS = 500
Keys = list[str] | list[bytes]
Item = TypeVar("Item")


class Batches(Generic[Item]):
    """What both batchers share: calls asked in one turn of the event loop are gathered
    and sent together (at most MAX_BATCH a pipeline, several side by side); each caller's
    future gets its own reply, or the exception of a batch that failed as a whole."""

    def __init__(self) -> None:
        self._pending: list[tuple[Item, asyncio.Future[Any]]] = []
        self._scheduled = False
        self._sending: set[asyncio.Task[None]] = set()

    def _queue(self, item: Item) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((item, future))
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

    async def _send(self, batch: list[tuple[Item, asyncio.Future[Any]]]) -> None:
        try:
            replies = await self._replies([item for item, _ in batch])
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), reply in zip(batch, replies, strict=True):
            if future.done():  # its caller went away (cancelled)
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _replies(self, items: list[Item]) -> list[Any]:
        """One reply per item, in order (an exception in place of a failed one)."""
        raise NotImplementedError


class Packer:
    """RESP bytes of one script's calls (EVALSHA sha numkeys keys... args...), the part
    made of the sha and the keys once per set of keys (a workshop's); arguments encoded
    by redis-py's encoder, bytes (made once by the caller) as they are; or a command's."""

    MAX_HEADS = 4096

    def __init__(self, sha: str, encode: Callable[[Any], bytes]) -> None:
        self.sha = sha.encode()
        self.encode = encode
        self._heads: dict[tuple[Any, ...], bytes] = {}

    def call(self, keys: Keys, args: list[Any]) -> bytes:
        key: tuple[Any, ...] = tuple(keys)
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) >= self.MAX_HEADS:
                self._heads.clear()
            head = self._heads[key] = b"".join(
                [bulk(b"EVALSHA"), bulk(self.sha), bulk(b"%d" % len(keys)),
                 *(bulk(self.encode(k)) for k in keys)])
        parts = [b"*%d\r\n" % (3 + len(keys) + len(args)), head]
        encode = self.encode
        for a in args:
            kind = type(a)
            if kind is Arg:
                parts.append(a.bulk)
                continue
            if kind is not bytes:
                a = encode(a)
            parts.append(b"$%d\r\n%b\r\n" % (len(a), a))
        return b"".join(parts)

    def command(self, *args: Any) -> bytes:
        return b"".join([b"*%d\r\n" % len(args), *[bulk(self.encode(a)) for a in args]])


def bulk(value: bytes) -> bytes:
    return b"$%d\r\n%b\r\n" % (len(value), value)


class Arg(bytes):
    """An argument made once (a store's fixed bounds): its bytes, as redis-py sends
    them, and its RESP bulk string made once for the packer."""

    bulk: bytes

    def __new__(cls, value: bytes) -> Arg:
        self = super().__new__(cls, value)
        self.bulk = bulk(value)
        return self


async def send_packed(redis: Any, payload: bytes, count: int) -> list[Any]:
    """The `count` replies to commands packed in `payload`, in one write on a redis-py
    pooled connection, as its pipeline does (its retries; an error reply in place of
    its command's; a failed connection raises). One read timeout for all the replies
    (a timer per reply was a few % of a vote storm): a frozen Redis still fails the
    batch after it, with redis-py's TimeoutError, the connection closed."""
    pool = redis.connection_pool
    conn = await pool.get_connection()

    async def exchange() -> list[Any]:
        await conn.send_packed_command(payload)
        replies: list[Any] = []
        try:
            async with asyncio.timeout(conn.socket_timeout):
                for _ in range(count):
                    try:  # (no timer of its own; cut short, it closes the connection)
                        replies.append(await conn.read_response(timeout=math.inf))
                    except ResponseError as exc:
                        replies.append(exc)
        except TimeoutError:
            raise RedisTimeoutError(f"Timeout reading {count} replies") from None
        return replies

    async def failed(error: Exception) -> None:
        await conn.disconnect()

    try:
        return await conn.retry.call_with_retry(exchange, failed)  # type: ignore[no-any-return]
    finally:
        await pool.release(conn)


class ScriptBatcher(Batches[tuple[Keys, list[Any]]]):
    def __init__(self, redis: Any, script: AsyncScript, wait_replicas: int = 0,
                 node_of: Callable[[str], Any] | None = None) -> None:
        super().__init__()
        self.redis = redis
        self.script = script
        # REDIS_WAIT_REPLICAS: an op's reply waits until this many replicas have its writes.
        self.wait_replicas = wait_replicas
        # On a cluster: the node serving a key (each node's part gets its own WAIT).
        self.node_of = node_of
        # One Redis: the batch packed here (a cluster: redis-py's pipeline routes it).
        one: Any = redis if isinstance(redis, Redis) else None
        self.packer = Packer(script.sha, one.get_encoder().encode) if one is not None else None

    def call(self, keys: Keys, args: list[Any]) -> asyncio.Future[Any]:
        """The script's reply for these keys and args, to await (raises what the call
        raised). A future, not a coroutine: one frame less to resume for every op."""
        return self._queue((keys, args))

    async def _replies(self, items: list[tuple[Keys, list[Any]]]) -> list[Any]:
        if len(items) == 1 and not self.wait_replicas:
            return [await self._one(*items[0])]
        replies = await self._pipeline(items)
        lost = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if lost:  # Redis lost its scripts: none of these ran; load it, send again
            await self.redis.script_load(self.script.script)
            again = await self._pipeline([items[i] for i in lost])
            for i, reply in zip(lost, again, strict=True):
                replies[i] = reply
        return replies

    async def _pipeline(self, batch: list[tuple[Keys, list[Any]]]) -> list[Any]:
        """The calls' replies (an exception in place of a failed one). With wait_replicas,
        each node's part ends with a WAIT on the same connection: a call whose writes
        fewer replicas confirmed gets a TimeoutError instead (its caller answers
        try_again; the op id makes the resend safe)."""
        if self.packer is not None:
            return await self._packed(batch)
        nodes: dict[str, Any] = {}
        where: list[str] = []
        if self.node_of is not None and self.wait_replicas:
            await self.redis.initialize()  # (the cluster's slots, learnt on first use)
        async with self.redis.pipeline(transaction=False) as pipe:
            for keys, args in batch:
                # (EVALSHA by name: redis-py blocks pipe.evalsha on a cluster, not the call)
                pipe.execute_command("EVALSHA", self.script.sha, len(keys), *keys, *args)
                if self.wait_replicas:
                    node = self.node_of(keys[0]) if self.node_of else None  # type: ignore[arg-type]
                    name = node.name if node is not None else ""
                    nodes.setdefault(name, node)
                    where.append(name)
            for node in nodes.values():
                extra = {"target_nodes": node} if node is not None else {}
                pipe.execute_command("WAIT", self.wait_replicas, WAIT_TIMEOUT_MS, **extra)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        ops, waits = replies[:len(batch)], dict(zip(nodes, replies[len(batch):], strict=True))
        if not self.wait_replicas:
            return ops
        return [self._confirmed(op, waits[name]) for op, name in zip(ops, where, strict=True)]

    def _confirmed(self, reply: Any, confirmed: Any) -> Any:
        """A call's reply as its caller gets it, given its node's WAIT answer: the WAIT's
        error, or a TimeoutError when fewer replicas than asked have its writes."""
        if isinstance(confirmed, Exception):
            return confirmed
        if int(confirmed) < self.wait_replicas and not isinstance(reply, Exception):
            return RedisTimeoutError(
                f"{confirmed} of {self.wait_replicas} replicas confirmed the write")
        return reply

    async def _packed(self, batch: list[tuple[Keys, list[Any]]]) -> list[Any]:
        """As _pipeline, on one Redis: the calls (and the WAIT) packed here."""
        packer = self.packer
        assert packer is not None
        calls = [packer.call(keys, args) for keys, args in batch]
        if self.wait_replicas:
            calls.append(packer.command("WAIT", self.wait_replicas, WAIT_TIMEOUT_MS))
        replies = await send_packed(self.redis, b"".join(calls), len(calls))
        if not self.wait_replicas:
            return replies
        return [self._confirmed(reply, replies[-1]) for reply in replies[:-1]]

    async def _one(self, keys: Keys, args: list[Any]) -> Any:
        try:  # (redis-py loads the script and retries on NOSCRIPT here)
            return await self.script(keys=keys, args=args)
        except Exception as exc:
            return exc


Command = tuple[Any, ...]
# Replies redis-py hands over as parsed (no response callback): only these are packed.
PLAIN_REPLIES = frozenset({"GET", "HGET", "HMGET"})


class CommandBatcher(Batches[Command]):
    """Plain commands (the reads of a join: limits, the code, a token, a key) sent the
    same way: every command asked in one turn of the event loop goes out in one round
    trip (docs/benchmarks.md, "Issue 14: a bigger hall"); on one Redis packed here and
    sent by send_packed, as ScriptBatcher's; on a cluster by redis-py's pipeline."""

    def __init__(self, redis: Any) -> None:
        super().__init__()
        self.redis = redis
        one: Any = redis if isinstance(redis, Redis) else None
        self.packer = Packer("", one.get_encoder().encode) if one is not None else None

    async def call(self, *command: Any) -> Any:
        """The reply to one command, e.g. call("GET", key)."""
        return await self.queue(command)

    async def call_all(self, commands: list[Command]) -> list[Any]:
        """The replies to several commands, sent in the same round trip."""
        return [await f for f in [self.queue(c) for c in commands]]

    def queue(self, command: Command) -> asyncio.Future[Any]:
        return self._queue(command)

    async def _replies(self, items: list[Command]) -> list[Any]:
        if (packer := self.packer) is not None and all(c[0] in PLAIN_REPLIES for c in items):
            payload = b"".join([packer.command(*command) for command in items])
            return await send_packed(self.redis, payload, len(items))
        if len(items) == 1:
            return [await self.redis.execute_command(*items[0])]
        async with self.redis.pipeline(transaction=False) as pipe:
            for command in items:
                pipe.execute_command(*command)
            return list(await pipe.execute(raise_on_error=False))

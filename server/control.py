"""The control channel between server processes, and the one list of what is said on it.

A route in one process changes something every process must act on for its own sockets
(a workshop erased: close them; keys rotated: close the staff screens). It publishes a
message; every process (itself too) receives it. Use:

    await channel.publish(Erased(workshop_id))
    async with channel.subscribe() as messages:
        async for message in messages:
            ...

The subscription reconnects by itself (server/backoff.py), like encode/broadcaster's.
A payload that is not JSON, or of a kind or shape not declared here, is logged and
skipped: a newer process may say things an older one does not know yet.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import ClassVar

import orjson

from server.backoff import Backoff
from server.store_feeds import FEED_ERRORS, FeedStore

log = logging.getLogger("samenspel.control")


@dataclass(frozen=True)
class Erased:
    """The workshop was erased: its sockets close with 4410."""

    kind: ClassVar[str] = "erased"
    workshop: str


@dataclass(frozen=True)
class KeysRotated:
    """The workshop's keys were rotated: its staff screens close with 4401."""

    kind: ClassVar[str] = "keys_rotated"
    workshop: str


Message = Erased | KeysRotated
KINDS: dict[str, type[Message]] = {m.kind: m for m in (Erased, KeysRotated)}


def to_json(message: Message) -> bytes:
    return orjson.dumps({"type": message.kind, "workshop": message.workshop})


def from_json(raw: bytes | str) -> Message | None:
    """The message, or None (logged) for a payload that is not one we know."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        log.warning("ignored a malformed control message")
        return None
    if not isinstance(data, dict):
        data = {}
    kind = KINDS.get(str(data.get("type")))
    workshop = data.get("workshop")
    if kind is None or not isinstance(workshop, str):
        log.warning("ignored an unknown control message")
        return None
    return kind(workshop)


class ControlChannel:
    def __init__(self, io: FeedStore) -> None:
        self.io = io
        self.closing = False

    async def publish(self, message: Message) -> None:
        await self.io.publish(to_json(message))

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Message]]:
        """Messages until the block ends; then the subscription's connection goes too."""
        messages = self._messages()
        try:
            yield messages
        finally:
            await messages.aclose()

    async def _messages(self) -> AsyncGenerator[Message, None]:
        backoff = Backoff()
        while not self.closing:
            try:
                async with self.io.subscribe() as payloads:
                    backoff.reset()
                    async for raw in payloads:
                        message = from_json(raw)
                        if message is not None:
                            yield message
            except FEED_ERRORS:
                await backoff.sleep()
            except Exception:  # whatever it was, the channel must not stop for good
                log.exception("control channel failed")
                await backoff.sleep()

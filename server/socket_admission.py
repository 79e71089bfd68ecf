"""Who a socket is: the hello's code, token, key or QR-link secret checked, a new phone
admitted in its turn, or the socket refused with a close code.

The limits themselves are server/admission.py's (the same policy as for the pages and
the API); this module applies them to a hello.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import NoReturn

import orjson

from server import metrics, protocol
from server.admission import MAX_BOOKED_WAIT_MS, Admission
from server.errors import DomainError
from server.hub import Feed, Hub
from server.ids import is_code
from server.store import Store
from server.views import Viewer


class Refused(Exception):
    """The socket is refused: closed with `close_code` after an error frame."""

    def __init__(self, code: int, error: DomainError) -> None:
        super().__init__(error.code)
        self.close_code = code
        self.error = error


class SocketAdmission:
    """`admit(hello)`: the feed, the viewer and the participant's token (None for staff),
    or Refused."""

    __slots__ = ("address", "admission", "hub", "send", "store")

    def __init__(self, admission: Admission, hub: Hub, store: Store, address: str | None,
                 send: Callable[[bytes], Awaitable[None]]) -> None:
        self.admission = admission
        self.hub = hub
        self.store = store
        self.address = address
        self.send = send

    async def admit(self, hello: protocol.Hello) -> tuple[Feed, Viewer, str | None]:
        # Over the failure limit, an address may still come in with a valid token, key or
        # QR-link secret (they cannot be guessed); only a typed code is refused for a
        # while, so that one hall behind one address is not locked out by a few typos.
        # A typed code's workshop is asked with the limits, in one round trip.
        found = self.store.code_lookup(hello.code) if hello.code and is_code(hello.code) else None
        try:
            limited, refused = await self.admission.standing(self.address)
        except BaseException:
            if found is not None:
                found.cancel()
            raise
        if hello.role == "participant":
            return await self.admit_participant(hello, limited, refused, found)
        assert hello.workshop is not None
        feed = await self.hub.feed(hello.workshop)
        if feed is None:
            await self.fail(protocol.CLOSE_NOT_FOUND, "no_workshop", limited=limited)
        granted = await self.store.check_key(
            feed.workshop_id, hello.key, view=hello.role == "projector"
        )
        if granted is None:
            await self.fail(protocol.CLOSE_WRONG_KEY, "wrong_key", limited=limited)
        return feed, Viewer(hello.role), None

    async def admit_participant(
        self, hello: protocol.Hello, limited: bool, refused: str | None,
        found: asyncio.Future[str | None] | None,
    ) -> tuple[Feed, Viewer, str | None]:
        workshop_id = await found if found is not None else None
        feed = await self.hub.feed(workshop_id) if workshop_id else None
        by_link = feed is not None and await self.store.check_join_secret(
            feed.workshop_id, hello.join_secret)
        if not hello.token and not by_link and refused:
            raise Refused(protocol.CLOSE_TOO_MANY, DomainError(refused))
        if feed is None:
            await self.fail(protocol.CLOSE_NOT_FOUND, "no_code", limited=limited,
                            guess=not hello.token)
        if hello.token:
            pid = await self.store.participant_for_token(feed.workshop_id, hello.token)
            if pid is None:
                await self.fail(protocol.CLOSE_WRONG_KEY, "wrong_token", limited=limited)
            return feed, Viewer("participant", pid), hello.token
        workshop = feed.room["workshop"]
        if workshop["phase"] == "closed":
            raise Refused(protocol.CLOSE_NOT_FOUND, DomainError("no_code"))
        await self.wait_turn()
        try:
            # The lock is checked by the join script, atomically: this process's
            # room may be a tick behind a lock or unlock that was just acked.
            pid, token = await self.store.join(feed.workshop_id)
        except DomainError as err:
            code = protocol.CLOSE_LOCKED if err.code == "locked" else protocol.CLOSE_NOT_FOUND
            raise Refused(code, err) from None
        return feed, Viewer("participant", pid), token

    async def fail(
        self, close_code: int, error_code: str, *, limited: bool, guess: bool = False
    ) -> NoReturn:
        """Count a failed join or key for this address and refuse it: with 4429 when the
        address is over its limit (so the answer says nothing about what was tried)."""
        await self.admission.failed(self.address, guess=guess)
        if limited:
            metrics.rate_limited("attempts")
            raise Refused(protocol.CLOSE_TOO_MANY, DomainError("too_many_attempts"))
        raise Refused(close_code, DomainError(error_code))

    async def wait_turn(self) -> None:
        """A new phone from a busy address waits its turn (never refused): the socket
        stays open, a `wait` frame says how long, and the hello is answered after."""
        while True:
            wait_ms, booked = await self.admission.join_turn(self.address)
            if wait_ms <= 0:
                return
            metrics.rate_limited("joins")
            await self.send(orjson.dumps({"type": "wait", "retry_after_ms": wait_ms}))
            if booked:
                await asyncio.sleep(wait_ms / 1000)
                return
            # Not booked (too far ahead): ask again once a turn may be bookable, each
            # phone at its own moment.
            await asyncio.sleep((wait_ms - MAX_BOOKED_WAIT_MS) / 1000 + random.random())

"""Who may try to get in, and how often: one policy for the socket, the pages and the API.

- Failures (a wrong code, key or token) are counted per address (an IPv6 address as its
  /64) per minute; past `failures_per_minute`, only what cannot be guessed still enters:
  a token, a key, or the QR link's join secret.
- Wrong codes are also counted over all addresses together; past `guesses_per_minute`,
  typed codes wait a while for everyone (many addresses guessing at once), and the rest
  still enters.
- New joins per address wait their turn (`joins_per_second`, bursts of `join_burst`):
  a hall behind one address gets in, a scripted burst is slowed, nobody is refused.

docs/security.md has the numbers (the chance that a guess hits, and how long guessing
takes).
"""

from __future__ import annotations

from server.config import Settings
from server.ratelimit import Limiter

FAIL_WINDOW = 60  # seconds in which failures are counted
MAX_BOOKED_WAIT_MS = 8000  # a join books a turn at most this far ahead (see ratelimit.py)


class Admission:
    def __init__(self, limiter: Limiter, settings: Settings) -> None:
        self.limiter = limiter
        self.settings = settings

    async def limited(self, address: str | None) -> bool:
        """This address had too many failures this minute."""
        count = await self.limiter.count("fail", address)
        return count >= self.settings.failures_per_minute

    async def standing(self, address: str | None) -> tuple[bool, str | None]:
        """In one round trip: whether this address is over its failure limit, and why a
        typed code may not be tried now (an error code), or None."""
        fails, guesses = await self.limiter.count_both("fail", address, "guess")
        limited = fails >= self.settings.failures_per_minute
        if limited:
            return True, "too_many_attempts"
        paused = guesses >= self.settings.guesses_per_minute
        return False, "guessing_paused" if paused else None

    async def refused_code(self, address: str | None) -> str | None:
        """Why a typed code may not be tried now (an error code), or None."""
        return (await self.standing(address))[1]

    async def failed(self, address: str | None, *, guess: bool = False) -> None:
        """Count a failure of this address; `guess`: a wrong join code (also counted over
        all addresses)."""
        await self.limiter.hit("fail", address, FAIL_WINDOW)
        if guess:
            await self.limiter.hit_all("guess", FAIL_WINDOW)

    async def join_turn(self, address: str | None) -> tuple[int, bool]:
        """How long (ms) a new join from this address waits, and whether that turn is
        booked (False: wait, then ask again)."""
        return await self.limiter.join_turn(
            address, self.settings.joins_per_second, self.settings.join_burst,
            MAX_BOOKED_WAIT_MS)

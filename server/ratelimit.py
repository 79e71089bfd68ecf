"""Rate limits that hold across processes: fixed-window counters in Redis, and a token
bucket per socket in memory.

Limits per address count only failures (wrong codes, keys, tokens) and mass actions
(creating workshops), never normal joining and posting: a whole hall shares one address.
Addresses are hashed before they reach Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from redis.exceptions import RedisError

from server import keys
from server.store import Store

SALT_SECONDS = 24 * 3600  # the salt (and so every address hash) changes daily
SALT_CACHE_SECONDS = 300


def subject(address: str | None, salt: str) -> str:
    """An address as a keyed hash: not reversible without the salt, which lives only in
    Redis and expires daily, so no address is kept, even pseudonymously, past a day."""
    mac = hmac.new(salt.encode(), (address or "-").encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


class Limiter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._salt: tuple[str, float] | None = None

    async def _subject(self, address: str | None) -> str:
        now = time.monotonic()
        if self._salt is None or now - self._salt[1] > SALT_CACHE_SECONDS:
            key = keys.limit_key("salt", "current")
            await self.store.redis.set(key, secrets.token_hex(16), nx=True, ex=SALT_SECONDS)
            salt = await self.store.redis.get(key)
            self._salt = (str(salt), now)
        return subject(address, self._salt[0])

    async def count(self, bucket: str, address: str | None) -> int:
        try:
            value = await self.store.redis.get(
                keys.limit_key(bucket, await self._subject(address)))
        except (RedisError, OSError):
            return 0
        return int(value or 0)

    async def hit(self, bucket: str, address: str | None, window_seconds: int) -> int:
        """Count one more in this window; returns the count so far."""
        try:
            key = keys.limit_key(bucket, await self._subject(address))
        except (RedisError, OSError):
            return 0
        try:
            async with self.store.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, window_seconds, nx=True)
                n, _ = await pipe.execute()
        except (RedisError, OSError):
            return 0
        return int(n)


class TokenBucket:
    """`rate` frames a second, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

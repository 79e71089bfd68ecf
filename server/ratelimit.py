"""Rate limits that hold across processes: fixed-window counters in Redis, and a token
bucket per socket in memory.

Limits per address count only failures (wrong codes, keys, tokens) and mass actions
(creating workshops), never normal joining and posting: a whole hall shares one address.
Addresses are hashed before they reach Redis.
"""

from __future__ import annotations

import hashlib
import time

from redis.exceptions import RedisError

from server import keys
from server.store import Store


def subject(address: str | None) -> str:
    return hashlib.sha256(f"samenspel:{address or '-'}".encode()).hexdigest()[:24]


class Limiter:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def count(self, bucket: str, address: str | None) -> int:
        try:
            value = await self.store.redis.get(keys.limit_key(bucket, subject(address)))
        except (RedisError, OSError):
            return 0
        return int(value or 0)

    async def hit(self, bucket: str, address: str | None, window_seconds: int) -> int:
        """Count one more in this window; returns the count so far."""
        key = keys.limit_key(bucket, subject(address))
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

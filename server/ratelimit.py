"""Rate limits that hold across processes: fixed-window counters in Redis, and a token
bucket per socket in memory.

Limits per address count only failures (wrong codes, keys, tokens) and mass actions
(creating workshops), never normal joining and posting: a whole hall shares one address.
New joins per address are shaped (they wait their turn), never refused. An IPv6 address
counts as its /64 (one home or phone gets a whole /64 to pick from). Addresses are hashed
before they reach Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from typing import Any

from redis.exceptions import RedisError

from server import keys
from server.store import Store

SALT_SECONDS = 24 * 3600  # the salt (and so every address hash) changes daily
SALT_CACHE_SECONDS = 300

# A generic cell rate algorithm: the key holds the moment (ms, Redis's clock) at which the
# address's bucket is full again. A join may go at once while that moment is at most
# `tolerance` ahead; later than that it waits, and a wait of at most `max_wait` is booked
# (the moment moves on), so that waiting phones go one after another. A longer wait is
# not booked: the caller waits and asks again, so a script cannot book the hour ahead.
# ARGV: interval_ms, tolerance_ms, max_wait_ms. Returns {wait_ms, booked (0/1)}.
JOIN_TURN_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tonumber(ARGV[2]) - now
if wait > tonumber(ARGV[3]) then return {wait, 0} end
tat = tat + interval
redis.call('SET', KEYS[1], tat, 'PX', math.max(1, tat - now))
if wait < 0 then wait = 0 end
return {wait, 1}
"""


def network(address: str | None) -> str:
    """The unit a limit counts: an IPv4 address as is, an IPv6 address as its /64 (an
    IPv4-mapped one as its IPv4 address); anything else (a unix socket) as given."""
    if not address:
        return "-"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def subject(address: str | None, salt: str) -> str:
    """An address as a keyed hash: not reversible without the salt, which lives only in
    Redis and expires daily, so no address is kept, even pseudonymously, past a day."""
    mac = hmac.new(salt.encode(), (address or "-").encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


class Limiter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._salt: tuple[str, float] | None = None
        self._join_turn: Any = None

    async def _subject(self, address: str | None) -> str:
        now = time.monotonic()
        if self._salt is None or now - self._salt[1] > SALT_CACHE_SECONDS:
            key = keys.limit_key("salt", "current")
            await self.store.redis.set(key, secrets.token_hex(16), nx=True, ex=SALT_SECONDS)
            salt = await self.store.redis.get(key)
            self._salt = (str(salt), now)
        return subject(network(address), self._salt[0])

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


    async def count_all(self, bucket: str) -> int:
        """A counter over every address together."""
        try:
            value = await self.store.redis.get(keys.limit_key(bucket, "all"))
        except (RedisError, OSError):
            return 0
        return int(value or 0)

    async def hit_all(self, bucket: str, window_seconds: int) -> int:
        try:
            async with self.store.redis.pipeline(transaction=True) as pipe:
                pipe.incr(keys.limit_key(bucket, "all"))
                pipe.expire(keys.limit_key(bucket, "all"), window_seconds, nx=True)
                n, _ = await pipe.execute()
        except (RedisError, OSError):
            return 0
        return int(n)

    async def join_turn(
        self, address: str | None, rate: float, burst: int, max_wait_ms: int
    ) -> tuple[int, bool]:
        """Milliseconds this address's next join waits, and whether that turn is booked
        (see JOIN_TURN_LUA). Without Redis a join does not wait: it fails later anyway."""
        interval = max(1, round(1000 / rate))
        try:
            key = keys.limit_key("join", await self._subject(address))
            if self._join_turn is None:
                self._join_turn = self.store.redis.register_script(JOIN_TURN_LUA)
            wait, booked = await self._join_turn(
                keys=[key], args=[interval, interval * max(0, burst - 1), max_wait_ms])
        except (RedisError, OSError):
            return 0, True
        return int(wait), bool(booked)


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

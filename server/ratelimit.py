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
import time

from server.store import STORE_FAILURES, Store

SALT_CACHE_SECONDS = 300


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
    """The policy over the store's counters (server/store_limits.py): addresses counted
    as their network, hashed with the day's salt; without Redis, every limit lets through
    (the op or join fails later anyway, with its own answer)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._salt: tuple[str, float] | None = None

    async def _subject(self, address: str | None) -> str:
        now = time.monotonic()
        if self._salt is None or now - self._salt[1] > SALT_CACHE_SECONDS:
            self._salt = (await self.store.limit_salt(), now)
        return subject(network(address), self._salt[0])

    async def count(self, bucket: str, address: str | None) -> int:
        try:
            return await self.store.limit_count(bucket, await self._subject(address))
        except STORE_FAILURES:
            return 0

    async def count_both(
        self, bucket: str, address: str | None, all_bucket: str
    ) -> tuple[int, int]:
        """This address's count in `bucket` and the count over every address in
        `all_bucket`, in one round trip (a new phone's join asks both)."""
        try:
            mine, everyone = await self.store.limit_counts(
                [(bucket, await self._subject(address)), (all_bucket, "all")])
        except STORE_FAILURES:
            return 0, 0
        return mine, everyone

    async def hit(self, bucket: str, address: str | None, window_seconds: int) -> int:
        """Count one more in this window; returns the count so far."""
        try:
            return await self.store.limit_hit(
                bucket, await self._subject(address), window_seconds)
        except STORE_FAILURES:
            return 0

    async def hit_all(self, bucket: str, window_seconds: int) -> int:
        try:
            return await self.store.limit_hit(bucket, "all", window_seconds)
        except STORE_FAILURES:
            return 0

    async def join_turn(
        self, address: str | None, rate: float, burst: int, max_wait_ms: int
    ) -> tuple[int, bool]:
        """Milliseconds this address's next join waits, and whether that turn is booked
        (see server/store_limits.py). Without Redis a join does not wait: it fails later
        anyway."""
        interval = max(1, round(1000 / rate))
        try:
            return await self.store.join_turn(
                await self._subject(address), interval, interval * max(0, burst - 1),
                max_wait_ms)
        except STORE_FAILURES:
            return 0, True


class TokenBucket:
    """`rate` frames a second, bursts up to `burst`."""

    __slots__ = ("burst", "rate", "stamp", "tokens")  # two a socket

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

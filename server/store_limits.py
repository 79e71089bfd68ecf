"""The rate limits' counters in the store: a daily salt, fixed-window counters and the
join-turn script. Which limit applies when is server/ratelimit.py's (the policy); this
module only keeps the numbers. Callers pass an already hashed subject: no addresses in
Redis.
"""

from __future__ import annotations

import secrets
from typing import Any

from server import keys
from server.batcher import ScriptBatcher
from server.store_core import StoreCore

SALT_SECONDS = 24 * 3600  # the salt (and so every address hash) changes daily

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


class LimitStore(StoreCore):
    _join_turn: Any = None

    async def limit_salt(self) -> str:
        """Today's salt for address hashes: made by the first process that asks, and
        gone (so a new one is made) after a day."""
        key = keys.limit_key("salt", "current")
        await self.redis.set(key, secrets.token_hex(16), nx=True, ex=SALT_SECONDS)
        return str(await self.redis.get(key))

    async def limit_count(self, bucket: str, subject: str) -> int:
        """The count of this window so far."""
        return int(await self.redis.get(keys.limit_key(bucket, subject)) or 0)

    async def limit_counts(self, cells: list[tuple[str, str]]) -> list[int]:
        """The counts of several (bucket, subject) windows in one round trip (a pipeline
        of GETs, not an MGET: the keys may live in different Cluster slots)."""
        values = await self._reads.call_all(
            [("GET", keys.limit_key(bucket, subject)) for bucket, subject in cells])
        return [int(v or 0) for v in values]

    async def limit_hit(self, bucket: str, subject: str, window_seconds: int) -> int:
        """Count one more in this window (which starts with the first); returns the count
        so far."""
        key = keys.limit_key(bucket, subject)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_seconds, nx=True)
            n, _ = await pipe.execute()
        return int(n)

    async def join_turn(self, subject: str, interval_ms: int, tolerance_ms: int,
                        max_wait_ms: int) -> tuple[int, bool]:
        """Milliseconds this subject's next join waits, and whether that turn is booked
        (see JOIN_TURN_LUA)."""
        if self._join_turn is None:  # pipelined with other joins' turns
            self._join_turn = ScriptBatcher(self.redis, self.redis.register_script(JOIN_TURN_LUA))
        wait, booked = await self._join_turn.call(
            [keys.limit_key("join", subject)], [interval_ms, tolerance_ms, max_wait_ms])
        return int(wait), bool(booked)

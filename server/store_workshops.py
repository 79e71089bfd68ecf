"""Workshops in the store: creating one with its join code and keys, checking keys,
tokens and the QR link's secret, joining, rotating keys and erasing.

A join code's key lives outside the workshop's hash tag (it is looked up before the
workshop is known), so it is written and dropped on its own, next to the workshop's
script call.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any

from server import keys
from server.errors import DomainError
from server.ids import code_length, digest, is_code, new_code, new_id, new_secret, same_secret
from server.store_core import StoreCore

# Delete a join code's key only while it still names this workshop (KEYS[1], ARGV[1]).
DROP_CODE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class WorkshopStore(StoreCore):
    _drop_code: Any = None

    async def active_codes(self) -> int:
        """How many join codes are in use now (expired ones are dropped first)."""
        now = int(time.time() * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(keys.ACTIVE_CODES, "-inf", now)
            pipe.zcard(keys.ACTIVE_CODES)
            _, count = await pipe.execute()
        return int(count)

    async def _claim_code(self, workshop_id: str, digits: int) -> str:
        """A free code of `digits` digits, now pointing at this workshop and counted as
        in use until it expires (as its code key does)."""
        for _ in range(50):
            code = new_code(digits)
            if await self.redis.set(keys.code_key(code), workshop_id, nx=True,
                                    px=self.retention_ms):
                break
        else:  # pragma: no cover - the code space is full
            raise DomainError("internal")
        expires = int(time.time() * 1000) + self.retention_ms
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(keys.ACTIVE_CODES, {code: expires})
            pipe.pexpire(keys.ACTIVE_CODES, self.retention_ms)
            await pipe.execute()
        return code

    async def create_workshop(self, clean: dict[str, Any], code_odds: int = 100_000) -> dict[
            str, str]:
        """Store a new workshop; returns id, code, the two keys (shown once) and the join
        secret. The code is long enough for the codes in use, the new one included."""
        workshop_id = new_id()
        facilitator_key, view_key, join_secret = new_secret(), new_secret(), new_secret()
        code = await self._claim_code(
            workshop_id, code_length(await self.active_codes() + 1, code_odds))
        prompts = [{"id": f"q{i + 1}", "text": text} for i, text in enumerate(clean["prompts"])]
        # A session plan (server/plan_args.py): activities a1, a2, ...; the first is current
        # (its prompts and settings are the workshop's, as in version 1).
        plan = [{"id": f"a{i + 1}", "title": a["title"], "settings": a["settings"],
                 "prompts": [{"id": f"q{j + 1}", "text": t} for j, t in enumerate(a["prompts"])]}
                for i, a in enumerate(clean.get("activities") or [
                    {"title": clean["title"], "prompts": clean["prompts"],
                     "settings": clean["settings"]}])]
        args = {
            "id": workshop_id,
            "code": code,
            "title": clean["title"],
            "prompts": prompts,
            "settings": clean["settings"],
            "plan": plan,
            "fkey": digest(facilitator_key),
            "vkey": digest(view_key),
            "jkey": join_secret,
        }
        answer = await self.run(workshop_id, "create", args, role="system")
        if not answer.ok:  # pragma: no cover - fresh random id
            raise answer.error()
        return {"id": workshop_id, "code": code, "facilitator_key": facilitator_key,
                "view_key": view_key, "join_secret": join_secret}

    async def workshop_for_code(self, code: str) -> str | None:
        return await self.code_lookup(code) if is_code(code) else None

    def code_lookup(self, code: str) -> asyncio.Future[str | None]:
        """A valid code's workshop, asked now (with this turn's other reads), awaited later."""
        return self._reads.queue(("GET", keys.code_key(code)))

    async def meta(self, workshop_id: str) -> dict[str, str]:
        data: dict[str, str] = await self.redis.hgetall(keys.workshop_key(workshop_id, "meta"))
        return data

    async def check_key(self, workshop_id: str, key: str | None, *, view: bool) -> str | None:
        """The role a key opens ("facilitator" or "projector"), or None."""
        fkey, vkey = await self._reads.call(
            "HMGET", keys.workshop_key(workshop_id, "meta"), "fkey", "vkey")
        if same_secret(key, fkey):
            return "facilitator"
        if view and same_secret(key, vkey):
            return "projector"
        return None

    async def join_secret(self, workshop_id: str) -> str | None:
        """The secret of the QR link (kept as is: the wall shows it again; see
        docs/decisions.md), or None for a workshop made before there were any."""
        secret: str | None = await self._reads.call(
            "HGET", keys.workshop_key(workshop_id, "meta"), "jkey")
        return secret or None

    async def check_join_secret(self, workshop_id: str, given: str | None) -> bool:
        if not given or len(given) > 200:
            return False
        stored = await self.join_secret(workshop_id)
        return stored is not None and hmac.compare_digest(given.encode(), stored.encode())

    async def rotate_keys(self, workshop_id: str) -> dict[str, str]:
        """New keys and a new join secret (a leaked QR link is a leaked link too), in one
        step that first checks the workshop still exists (an erase may have come first):
        DomainError("no_workshop") if it does not."""
        facilitator_key, view_key, join_secret = new_secret(), new_secret(), new_secret()
        args = {"fkey": digest(facilitator_key), "vkey": digest(view_key), "jkey": join_secret}
        answer = await self.run(workshop_id, "rotate_keys", args, role="system")
        if not answer.ok:
            raise answer.error()
        return {"facilitator_key": facilitator_key, "view_key": view_key,
                "join_secret": join_secret}

    async def erase(self, workshop_id: str) -> None:
        """Every key of the workshop in one step, then its join code's key. The code's
        key is in another Cluster slot, so it cannot be in the same script: it goes
        second, and only while it still points at this workshop (a code is reused once
        free). Left behind by a crash in between, it points at nothing and expires."""
        answer = await self.run(workshop_id, "erase", {}, role="system")
        code = (answer.result or {}).get("code") if answer.ok else None
        if code:
            if self._drop_code is None:
                self._drop_code = self.redis.register_script(DROP_CODE)
            dropped = await self._drop_code(keys=[keys.code_key(str(code))], args=[workshop_id])
            if dropped:
                await self.redis.zrem(keys.ACTIVE_CODES, code)

    async def touch_code(self, code: str) -> None:
        expires = int(time.time() * 1000) + self.retention_ms
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.pexpire(keys.code_key(code), self.retention_ms)
            pipe.zadd(keys.ACTIVE_CODES, {code: expires}, xx=True)
            pipe.pexpire(keys.ACTIVE_CODES, self.retention_ms)
            await pipe.execute()

    async def participant_for_token(self, workshop_id: str, token: str | None) -> str | None:
        if not token or not isinstance(token, str) or len(token) > 200:
            return None
        pid: str | None = await self._reads.call(
            "HGET", keys.workshop_key(workshop_id, "tokens"), digest(token))
        return pid

    async def join(self, workshop_id: str) -> tuple[str, str]:
        """A new participant: returns (participant_id, token)."""
        pid, token = new_id("p"), new_secret()
        answer = await self.run(
            workshop_id, "join", {"token_hash": digest(token)}, role="system", actor=pid
        )
        if not answer.ok:
            raise answer.error()
        return pid, token

"""One load per key at a time, shared by every caller that asks meanwhile.

A hundred sockets opening the same workshop at once cost one read of its room. The entry
goes when the load ends, found or not, failed or cancelled: asking for ten thousand
unknown ids leaves nothing behind (tests/integration/test_unknown_ids.py).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SharedLoads(Generic[K, V]):
    def __init__(self) -> None:
        self.pending: dict[K, asyncio.Future[V]] = {}

    async def get(self, key: K, load: Callable[[K], Awaitable[V]]) -> V:
        loading = self.pending.get(key)
        if loading is None:
            loading = asyncio.ensure_future(load(key))
            self.pending[key] = loading
            loading.add_done_callback(functools.partial(self._done, key))
        # shield: one caller that goes away (its socket closed) does not cancel the load
        # that the others wait for.
        return await asyncio.shield(loading)

    def _done(self, key: K, loading: asyncio.Future[V]) -> None:
        if self.pending.get(key) is loading:
            del self.pending[key]
        if not loading.cancelled():
            loading.exception()  # retrieved: each waiting caller got it already

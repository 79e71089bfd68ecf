"""Waiting before trying the store again: doubling from 0.1 s, capped at 5 s."""

from __future__ import annotations

import asyncio


class Backoff:
    def __init__(self, first: float = 0.1, most: float = 5.0) -> None:
        self.first = first
        self.most = most
        self.next = first  # the next wait, in seconds

    def reset(self) -> None:
        """The store answered: the next failure waits the shortest time again."""
        self.next = self.first

    async def sleep(self) -> None:
        await asyncio.sleep(self.next)
        self.next = min(self.next * 2, self.most)

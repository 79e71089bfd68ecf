"""Waiting on a condition with a deadline (never a fixed sleep as synchronisation)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0, *,
                     what: str = "", step: float = 0.05) -> None:
    """Poll an async check (say, a read from the store) until it holds; fail at the deadline."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"timed out after {within}s waiting for {what}"
        await asyncio.sleep(step)

"""Keeping the embedded Valkey up while the app runs: a task that restarts it (same port,
same data) whenever it dies."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger("samenspel")

SUPERVISE_SECONDS = 0.25  # how often the supervisor looks whether Valkey still runs


class Supervised(Protocol):
    """What the supervisor needs of server.embedded.EmbeddedValkey (a Protocol, so that
    this module does not import the one that imports it)."""

    stopping: bool
    restarts: int
    process: subprocess.Popen[bytes] | None

    @property
    def shown_url(self) -> str: ...

    def spawn(self) -> None: ...

    def ready(self) -> bool: ...


async def supervise(valkey: Supervised,
                    after_restart: Callable[[], Awaitable[None]] | None = None) -> None:
    """Restart the child (same port, same data) whenever it dies while the app runs.
    The AOF replays on start; with `appendfsync always` no acked write is lost."""
    backoff = 0.5
    while not valkey.stopping:
        await asyncio.sleep(SUPERVISE_SECONDS)
        process = valkey.process
        if valkey.stopping or process is None or process.poll() is None:
            continue
        log.warning("embedded Valkey exited (status %s); restarting it",
                    process.returncode)
        try:
            # Popen from the event loop's thread (the main thread under uvicorn), so
            # that PDEATHSIG ties the new child to the app's life, not a worker's.
            valkey.spawn()
            deadline = time.monotonic() + 30
            while not valkey.ready():
                if time.monotonic() > deadline:
                    raise RuntimeError("valkey-server did not answer in time")
                await asyncio.sleep(0.05)
        except (OSError, RuntimeError) as exc:
            log.error("restarting the embedded Valkey failed (%s); retry in %.1fs",
                      exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        valkey.restarts += 1
        backoff = 0.5
        log.warning("embedded Valkey is back on %s", valkey.shown_url)
        if after_restart is not None:
            await after_restart()

"""Whether the store reads and takes writes now, as this process last saw it.

The hub's read loop reports its reads, the presence loop its heartbeat and the sockets
their ops; every screen is told when the answer changes (a `status` frame) so that it
can show the calm try-again state.

Back to "ok" only after the store has answered for `HOLD_SECONDS` since its last failure:
on a Redis Cluster whose one master fails over, ops and reads on the other masters go on
succeeding between the failures, and without the hold every screen was told "down", "ok",
"down"... dozens of times in a few seconds (the banner flickering instead of staying calm).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from server import metrics
from server.feed import Feed
from server.protocol import status_frame

log = logging.getLogger("samenspel.hub")

HOLD_SECONDS = 2.0  # answered this long after the last failure before "ok" again


class StoreHealth:
    def __init__(self, feeds: Mapping[str, Feed]) -> None:
        self.feeds = feeds
        self.ok = True
        self._reads_ok = True
        self._writes_ok = True
        self._failed_at = float("-inf")

    def answered(self, *, read: bool = False) -> None:
        """The store just did what was asked (a write; or, with read=True, the read)."""
        self._set(read, True)

    def failed(self, *, read: bool = False) -> None:
        """The store was down, frozen or full for a write (or, with read=True, the read)."""
        metrics.store_failed(read)
        self._set(read, False)

    def _set(self, read: bool, ok: bool) -> None:
        now = time.monotonic()
        if read:
            self._reads_ok = ok
        else:
            self._writes_ok = ok
        if not ok:
            self._failed_at = now
        now_ok = self._reads_ok and self._writes_ok
        if now_ok == self.ok or (now_ok and now - self._failed_at < HOLD_SECONDS):
            return
        self.ok = now_ok
        log.warning("store %s", "is back" if now_ok else "cannot save now")
        msg = status_frame(now_ok)
        for feed in self.feeds.values():
            feed.broadcast(msg)

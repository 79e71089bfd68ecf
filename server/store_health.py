"""Whether the store reads and takes writes now, as this process last saw it.

The hub's read loop reports its reads, the presence loop its heartbeat and the sockets
their ops; every screen is told when the answer changes (a `status` frame) so that it
can show the calm try-again state.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from server import metrics
from server.feed import Feed
from server.protocol import status_frame

log = logging.getLogger("samenspel.hub")


class StoreHealth:
    def __init__(self, feeds: Mapping[str, Feed]) -> None:
        self.feeds = feeds
        self.ok = True
        self._reads_ok = True
        self._writes_ok = True

    def answered(self, *, read: bool = False) -> None:
        """The store just did what was asked (a write; or, with read=True, the read)."""
        self._set(read, True)

    def failed(self, *, read: bool = False) -> None:
        """The store was down, frozen or full for a write (or, with read=True, the read)."""
        metrics.store_failed(read)
        self._set(read, False)

    def _set(self, read: bool, ok: bool) -> None:
        if read:
            self._reads_ok = ok
        else:
            self._writes_ok = ok
        now_ok = self._reads_ok and self._writes_ok
        if now_ok == self.ok:
            return
        self.ok = now_ok
        log.warning("store %s", "is back" if now_ok else "cannot save now")
        msg = status_frame(now_ok)
        for feed in self.feeds.values():
            feed.broadcast(msg)

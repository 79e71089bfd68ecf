"""The Redis store: workshops, participants and ops, each change one atomic script call.

The store layer knows keys, scripts and the shape of what is stored; it knows nothing of
sockets. Rules that depend on the stored state run inside server/lua/ops.lua. `Store` is
the one object the rest of the app holds; its jobs live in their own modules:

- server/store_core.py: connections, errors, and `run` (one op, one script call);
- server/store_workshops.py: codes, keys, tokens, joining, rotating, erasing;
- server/store_reading.py: a workshop as a room, and its event stream;
- server/store_limits.py: the rate limits' counters;
- server/ids.py: ids, secrets and codes (no Redis).
"""

from __future__ import annotations

from server.events import Event
from server.ids import code_length, digest, is_code, new_id, new_secret, same_secret
from server.store_core import (
    BLOCK_MAX_MS,
    BLOCKING_TIMEOUT_SECONDS,
    POOL_SIZE,
    POOL_WAIT_SECONDS,
    SOCKET_TIMEOUT_SECONDS,
    STORE_ERRORS,
    STORE_FAILURES,
    Answer,
    Bounds,
)
from server.store_limits import LimitStore
from server.store_reading import (
    ReadingStore,
    normalize_event,
    normalize_settings,
    parse_entry,
)
from server.store_workshops import WorkshopStore

__all__ = [
    "BLOCKING_TIMEOUT_SECONDS", "BLOCK_MAX_MS", "POOL_SIZE", "POOL_WAIT_SECONDS",
    "SOCKET_TIMEOUT_SECONDS", "STORE_ERRORS", "STORE_FAILURES", "Answer", "Bounds", "Event",
    "Store", "code_length", "digest", "is_code", "new_id", "new_secret", "normalize_event",
    "normalize_settings", "parse_entry", "same_secret",
]


class Store(WorkshopStore, ReadingStore, LimitStore):
    """Everything the app stores, behind one object (see the modules above)."""

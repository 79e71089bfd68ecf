"""When phones get their events: the batch window, and summaries held back.

Pure timing, no I/O: the clock is injected (tests drive it), the feed sends what this
says is due (server/feed.py).

- Phones get their batch with the wall's in a small room, and in a big room less often:
  a fan-out costs the process time per socket, so the window grows with the room
  (`per_socket` a phone, 75 µs by default: from 400 phones; 2,000 phones: 0.15 s) once
  it is longer than a tick, up to WINDOW_MAX. The wall and control screen get every tick.
- Others' summaries (vote progress, the participant count) reach phones at most once per
  SUMMARY_SECONDS. A batch of nothing else for phones inside that time has them held
  back; they go out with the next batch that goes out anyway, or once the second is up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from server.fanout import Batch, is_summary

WINDOW_MAX = 0.25
SUMMARY_SECONDS = 1.0


@dataclass(frozen=True)
class Due:
    """A batch to send now: `release` (summaries held before, kind -> seq) go out first;
    `hold` are this batch's own summaries held back (left out of its shared frame)."""

    batch: Batch
    hold: dict[str, int]
    release: dict[str, int]


class PhoneBatches:
    def __init__(self, tick: float, per_socket: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.tick = tick
        self.per_socket = per_socket
        self.clock = clock
        self.batch = Batch()  # events cut for phones, not sent yet
        self.summaries_at = 0.0  # when phones last got others' summaries
        self.held: dict[str, int] = {}  # kind -> seq of a summary held back

    def window(self, phones: int) -> float:
        """0 (with the wall, this tick) in a room small enough to fan out within a tick."""
        window = min(WINDOW_MAX, phones * self.per_socket)
        return window if window > self.tick else 0.0

    def opened(self, phones: int) -> None:
        """Items were added to the batch: the window is reckoned once, from the first."""
        if self.batch.items and self.batch.due is None:
            self.batch.due = self.clock() + self.window(phones)

    def wait(self) -> float | None:
        """Seconds until the batch is due (None: no batch)."""
        return None if self.batch.due is None else self.batch.due - self.clock()

    def take(self) -> Due | None:
        """The batch, once its window has passed; what it holds back must be handed to
        `sent` after it has gone out."""
        batch = self.batch
        if not batch.items or batch.due is None or self.clock() < batch.due:
            return None
        self.batch = Batch()
        now = self.clock()
        summaries = {k: s for s, k, d in batch.items if is_summary(d)}
        others = any(d is not None and not is_summary(d) for _, _, d in batch.items)
        if summaries and not others and now - self.summaries_at < SUMMARY_SECONDS:
            return Due(batch, summaries, {})
        # Going out anyway: what was held goes first, unless this batch supersedes it
        # (a newer summary of the same kind is in it).
        for kind in summaries:
            self.held.pop(kind, None)
        release, self.held = self.held, {}
        if summaries or release:
            self.summaries_at = now
        return Due(batch, {}, release)

    def sent(self, due: Due) -> None:
        """The batch went out: from now on what it held back may be released. (Not in
        `take`: a release while its frames are still being handed out could pass them.)"""
        self.held.update(due.hold)

    def release(self) -> dict[str, int]:
        """The summaries held back whose second is up (kind -> seq), now taken."""
        if not self.held or self.clock() - self.summaries_at < SUMMARY_SECONDS:
            return {}
        held, self.held = self.held, {}
        self.summaries_at = self.clock()
        return held


def block_ms(waits: Iterable[float | None], most: int) -> int:
    """How long a read may wait for new events (ms): until the first batch is due."""
    due = [w for w in waits if w is not None]
    return max(1, int(min(due) * 1000) + 1) if due else most

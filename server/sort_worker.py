"""The sorting help's one worker thread per process: the model (server/sorting.py) loads
there once, on first use, and every call to it runs there, never on the event loop.

Notes are embedded off the hot path: `warm` only queues their texts (O(1) on the loop);
the worker embeds them a few at a time, each batch its own job, so that a question
(`suggest`, `similar`) waits for at most one small batch, never for a whole backlog; and
it rests three times as long as each batch took, so that warming takes at most a quarter
of a core from the sockets (a flood of notes, as in the load benchmark, is then embedded
later, or when a question needs it).

The model loads lazily, on the first question (suggest_themes, or a phone's similar_notes
as its participant types): a server process that is never asked never loads it (150 MB,
seconds of CPU), nor embeds or even keeps a note's text: until the first question, `warm`
drops what it is given (a flood of note edits in a process nobody asks would otherwise be
held in the backlog: tests/faults/test_slow_reader.py saw the server's memory grow past
its bound). While it loads, similar_notes answers no notes (`loading`).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("samenspel.sorting")

Pair = tuple[str, str]  # a note as the model gets it: (id, text)

WARM_DELAY_SECONDS = 0.5  # texts are gathered this long, then embedded together
WARM_BATCH = 4  # texts per warm job (a question waits for one job at most)
REST_FACTOR = 3.0  # after a warm job, rest this many times as long as it took
WARM_BACKLOG = 2000  # texts waiting to be embedded; older ones are dropped past it
# Questions waiting for the worker (all sockets of this process): past it, similar_notes
# answers no notes at once (a hint may be missed) and suggest_themes nacks sorting_busy.
MAX_WAITING = 16


class SortWorker:
    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._sorter: Any = None
        self._backlog: collections.deque[str] = collections.deque(maxlen=WARM_BACKLOG)
        self._warming = False
        self._stopped = False
        self._loading = False
        self.waiting = 0

    # ------------------------------------------------------------- in the worker
    def _model(self) -> Any:
        if self._sorter is None:
            # Imported and loaded here, in the worker, once per process: never on the loop.
            from server.sorting import sorter

            self._sorter = sorter()
        return self._sorter

    def _suggest(self, unsorted: list[Pair], clusters: list[tuple[str, str, list[Pair]]],
                 language: str) -> Any:
        from server.sorting import Cluster, Note

        return self._model().suggest(
            [Note(*n) for n in unsorted],
            [Cluster(cid, title, [Note(*n) for n in notes]) for cid, title, notes in clusters],
            language)

    def _similar(self, text: str, candidates: list[Pair], limit: int) -> Any:
        from server.sorting import Note

        return self._model().similar(text, [Note(*n) for n in candidates], limit)

    def _warm_batch(self) -> float:
        """Embed a few queued texts; returns the seconds it took."""
        start = time.perf_counter()
        texts: list[str] = []
        while self._backlog and len(texts) < WARM_BATCH:
            texts.append(self._backlog.popleft())
        model = self._model()
        if texts:
            model.warm(texts)
        return time.perf_counter() - start

    # ------------------------------------------------------------- on the loop
    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sorting")
        return self._pool

    @property
    def busy(self) -> bool:
        return self.waiting >= MAX_WAITING

    @property
    def loaded(self) -> bool:
        """The model is loaded (until then, similar_notes answers at once with none)."""
        return self._sorter is not None

    def load(self) -> None:
        """Load the model in the worker, if not yet, then embed the queued notes (never
        blocks; on the event loop)."""
        if not self._loading and not self._stopped:
            self._loading = True
            future = asyncio.get_running_loop().run_in_executor(self._executor(), self._model)
            future.add_done_callback(_log_failure)
            self._kick()

    async def _run(self, call: Callable[..., Any], *args: Any) -> Any:
        self.load()
        self.waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._executor(), call, *args)
        finally:
            self.waiting -= 1

    async def suggest(self, unsorted: list[Pair], clusters: list[tuple[str, str, list[Pair]]],
                      language: str) -> Any:
        """The model's Suggestion for these unsorted notes and existing clusters."""
        return await self._run(self._suggest, unsorted, clusters, language)

    async def similar(self, text: str, candidates: list[Pair], limit: int) -> Any:
        """The model's Similar notes among `candidates` for `text`."""
        return await self._run(self._similar, text, candidates, limit)

    def warm(self, texts: list[str]) -> None:
        """Queue texts to be embedded soon (never blocks; call on the event loop)."""
        if self._stopped or not texts or not self._loading:
            return  # nobody asked yet: the first question embeds what it needs itself
        self._backlog.extend(texts)
        self._kick()

    def _kick(self) -> None:
        if not self._warming and self._backlog:
            self._warming = True
            asyncio.get_running_loop().call_later(WARM_DELAY_SECONDS, self._next_batch)

    def _next_batch(self) -> None:
        if not self._backlog or self._stopped:
            self._warming = False
            return
        future = asyncio.get_running_loop().run_in_executor(self._executor(), self._warm_batch)
        future.add_done_callback(self._batch_done)

    def _batch_done(self, future: asyncio.Future[float]) -> None:
        took = 0.0
        if future.cancelled():
            return
        if future.exception() is not None:
            log.warning("embedding notes failed: %r", future.exception())
            self._backlog.clear()
        else:
            took = future.result()
        if self._stopped:
            return
        asyncio.get_running_loop().call_later(took * REST_FACTOR, self._next_batch)

    def stop(self) -> None:
        self._stopped = True
        self._backlog.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _log_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("the sorting model did not load: %r", future.exception())

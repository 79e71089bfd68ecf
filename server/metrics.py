"""What this process counts for operators: `GET /metrics` (server/metrics_http.py) shows
these in the Prometheus text format. Each process counts its own (docs/operations.md).

Labels come from small fixed sets only: an op's name (server/rules.py OPS), an error
code of the catalogue, a role, a limit's name, where Redis failed. Never a workshop id,
a code, a key, a text or an address: whatever is not in the set becomes "other".

Cheap on the hot path: a counter's inc and a histogram's observe per op; the fan-out
observes once per batch, not per frame; connections and the phone window are counted
when Prometheus asks (`RoomCollector`), not kept up to date per socket.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from importlib import resources
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from server.rules import OPS

ROLES = ("facilitator", "projector", "participant")
OTHER = "other"

OP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
FANOUT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5)

OPS_TOTAL = Counter("samenspel_ops_total", "Ops answered, by op and result (ok or the "
                    "error code of the nack).", ["op", "result"])
OP_SECONDS = Histogram("samenspel_op_seconds", "Time from an op's frame checked to its "
                       "answer from the store.", ["op"], buckets=OP_BUCKETS)
FANOUT_SECONDS = Histogram(
    "samenspel_fanout_seconds", "Time from an event read from Redis by this process to "
    "its frame handed to the last socket of the audience (once per batch).",
    ["audience"], buckets=FANOUT_BUCKETS)
REDIS_ERRORS = Counter("samenspel_redis_errors_total", "Store calls that failed (down, "
                       "frozen, full), by what asked: the event read or a write.", ["kind"])
RESYNCS = Counter("samenspel_resyncs_total", "Sockets closed with 4408 (the screen "
                  "reconnects and gets a fresh state), by why.", ["reason"])
RATE_LIMITED = Counter("samenspel_rate_limited_total", "Requests refused or held back by a "
                       "limit: ops (too_fast, 4429), attempts (wrong codes or keys), "
                       "creates (workshops per hour), joins (a join made to wait).", ["limit"])

RESYNC_REASONS = ("too_slow", "trimmed", "fanout_error")
LIMITS = ("ops", "attempts", "creates", "joins")
AUDIENCES = ("staff", "phones")
# Every fixed label there from the start, at 0: a rate() has a start, a dashboard a line.
for _kind in ("read", "write"):
    REDIS_ERRORS.labels(_kind)
for _reason in RESYNC_REASONS:
    RESYNCS.labels(_reason)
for _limit in LIMITS:
    RATE_LIMITED.labels(_limit)


@cache
def error_codes() -> frozenset[str]:
    """Every code of the error catalogue: the bounded set a nack's label comes from."""
    text = resources.files("server").joinpath("locales/errors.en.json").read_text("utf-8")
    return frozenset(json.loads(text))


# Label children looked up once (labels() takes a lock and builds a key on every call).
_op_children: dict[tuple[str, str], tuple[Any, Any]] = {}
_fanout_children = {audience: FANOUT_SECONDS.labels(audience) for audience in AUDIENCES}


def op_answered(op: str, result: str, seconds: float | None = None) -> None:
    """An op was answered: `result` is "ok" or the nack's error code."""
    key = (op if op in OPS else OTHER,
           result if result == "ok" or result in error_codes() else OTHER)
    children = _op_children.get(key)
    if children is None:  # at most every op times every code: a bounded set
        children = _op_children[key] = (OPS_TOTAL.labels(*key), OP_SECONDS.labels(key[0]))
    children[0].inc()
    if seconds is not None:
        children[1].observe(seconds)


def fanned_out(audience: str, seconds: float) -> None:
    _fanout_children[audience].observe(seconds)


def store_failed(read: bool) -> None:
    REDIS_ERRORS.labels("read" if read else "write").inc()


def resynced(reason: str, sockets: int = 1) -> None:
    if sockets:
        RESYNCS.labels(reason if reason in RESYNC_REASONS else OTHER).inc(sockets)


def rate_limited(limit: str) -> None:
    RATE_LIMITED.labels(limit if limit in LIMITS else OTHER).inc()


# What the collector reads of each open workshop: its sockets' roles, and how long its
# phones' batch window is now.
RoomNow = tuple[list[str], float]


WINDOW_BUCKETS = (0.0, 0.03, 0.05, 0.1, 0.15, 0.2, 0.25)


class RoomCollector(Collector):
    """Sockets by role, open workshops and the phones' windows, counted when scraped."""

    def __init__(self, rooms: Callable[[], Iterable[RoomNow]]) -> None:
        self.rooms = rooms

    def collect(self) -> Iterator[Metric]:
        counts = dict.fromkeys(ROLES, 0)
        windows = [0] * len(WINDOW_BUCKETS)
        total = 0.0
        rooms = list(self.rooms())
        for roles, window in rooms:
            for role in roles:
                counts[role if role in counts else ROLES[-1]] += 1
            total += window
            for i, bound in enumerate(WINDOW_BUCKETS):
                windows[i] += window <= bound
        sockets = GaugeMetricFamily("samenspel_connections",
                                    "Sockets of this process attached to a workshop.",
                                    labels=["role"])
        for role, n in counts.items():
            sockets.add_metric([role], n)
        yield sockets
        yield GaugeMetricFamily("samenspel_workshops_open",
                                "Workshops this process has sockets for (or had lately).",
                                value=len(rooms))
        yield HistogramMetricFamily(
            "samenspel_phone_window_seconds",
            "The phones' batch window of each open workshop now (grows with its room).",
            buckets=[*((str(b), w) for b, w in zip(WINDOW_BUCKETS, windows, strict=True)),
                     ("+Inf", len(rooms))],
            sum_value=total)


def watch_rooms(rooms: Callable[[], Iterable[RoomNow]]) -> Callable[[], None]:
    """Count these rooms on every scrape; returns what stops it (at shutdown)."""
    collector = RoomCollector(rooms)
    try:
        REGISTRY.register(collector)
    except ValueError:  # a second app in this process: the first one's rooms are shown
        return lambda: None
    return lambda: REGISTRY.unregister(collector)

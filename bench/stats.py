"""Small statistics helpers: percentiles of samples and of millisecond histograms."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

HIST_MS = 30_000  # one bucket per millisecond up to 30 s; the last bucket holds the rest


def new_hist() -> list[int]:
    return [0] * (HIST_MS + 1)


def hist_add(hist: list[int], ms: float) -> None:
    i = int(ms) if ms > 0 else 0
    hist[i if i < HIST_MS else HIST_MS] += 1


def hist_merge(into: list[int], other: Sequence[int]) -> None:
    for i, n in enumerate(other):
        if n:
            into[i] += n


def hist_sparse(hist: list[int]) -> dict[int, int]:
    return {i: n for i, n in enumerate(hist) if n}


def hist_from_sparse(sparse: dict[Any, int]) -> list[int]:
    h = new_hist()
    for i, n in sparse.items():
        h[int(i)] += n
    return h


def hist_summary(hist: Sequence[int]) -> dict[str, float | int | None]:
    total = sum(hist)
    if not total:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    marks = {"p50": 0.50, "p95": 0.95, "p99": 0.99}
    out: dict[str, float | int | None] = {"n": total}
    seen = 0
    want = sorted(marks.items(), key=lambda kv: kv[1])
    j = 0
    top = 0
    for i, n in enumerate(hist):
        if not n:
            continue
        seen += n
        top = i
        while j < len(want) and seen >= math.ceil(want[j][1] * total):
            out[want[j][0]] = float(i) + 0.5  # bucket midpoint
            j += 1
    out["max"] = float(top) + 1.0
    return out


def summary(samples: Iterable[float]) -> dict[str, float | int | None]:
    """n, p50, p95, p99, max of samples (nearest-rank percentiles)."""
    xs = sorted(samples)
    n = len(xs)
    if not n:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}

    def rank(p: float) -> float:
        return xs[max(0, math.ceil(p * n) - 1)]

    return {"n": n, "p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": xs[-1]}


def median(values: Sequence[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return statistics.median(xs) if xs else None


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "–"
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if v >= 100:
        return f"{v:.0f} ms"
    return f"{v:.1f} ms"

"""Speed and memory of the sorting help (docs/sorting.md, "Speed and memory").

    python -m bench.sorting [--model use|e5|minilm|paraminilm|static64] [--notes 300] [--rounds 5]

Prints: the resident memory the model adds to the process, `suggest` for N notes with cold
embeddings (nothing cached: every note embedded in the call) and warm (notes embedded
beforehand by `warm`, as the server does when notes are posted), `suggest` for 1,000 notes,
and `similar` (a new typed text against N posted notes) at p50/p95.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench import sorting_data as data
from bench.sorting_models import EXTRA, EXTRA_TUNING
from server.sorting import Note, Sorter
from server.sorting_embed import Embedder


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 1e6


def workshop(n: int) -> list[Note]:
    """n notes: the evaluation set, then pairs of its notes run together (longer than most
    real notes, so the timings err on the slow side)."""
    texts = [r.text for r in data.notes()]
    out = list(texts)
    k = 0
    while len(out) < n:
        out.append(f"{texts[k % len(texts)]} {texts[(k * 7 + 3) % len(texts)]}")
        k += 1
    return [Note(f"n{i}", t) for i, t in enumerate(out[:n])]


def timed(fn: object, *args: object) -> float:
    start = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="use")
    parser.add_argument("--notes", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    before = rss_mb()
    start = time.perf_counter()
    sorter = (Sorter(args.model, EXTRA[args.model](), EXTRA_TUNING[args.model])
              if args.model in EXTRA else Sorter(args.model))
    load = time.perf_counter() - start
    after_load = rss_mb()
    notes = workshop(args.notes)
    print(f"model {sorter.embedder.backend.name}: load {load:.2f} s, "
          f"RSS {before:.0f} → {after_load:.0f} MB (+{after_load - before:.0f})")

    cold = []
    for _ in range(args.rounds):
        sorter.embedder = Embedder(sorter.embedder.backend)   # empty cache
        cold.append(timed(sorter.suggest, notes, [], "nl"))
    warm = [timed(sorter.suggest, notes, [], "nl") for _ in range(args.rounds)]
    print(f"suggest {len(notes)} notes: cold median {statistics.median(cold):.2f} s "
          f"max {max(cold):.2f} s; warm median {statistics.median(warm):.3f} s "
          f"max {max(warm):.3f} s")

    big = workshop(1000)
    sorter.warm([n.text for n in big])
    print(f"suggest 1000 notes (warm): {timed(sorter.suggest, big, [], 'nl'):.2f} s")

    queries = [f"{q.text} {k}" for k in range(7) for q in data.queries()]  # each one new
    times = sorted(timed(sorter.similar, q, notes, 3) for q in queries)
    p50 = times[len(times) // 2]
    p95 = times[int(len(times) * 0.95)]
    print(f"similar against {len(notes)} notes, {len(times)} new texts: "
          f"p50 {p50 * 1000:.0f} ms p95 {p95 * 1000:.0f} ms max {times[-1] * 1000:.0f} ms")
    print(f"RSS at the end: {rss_mb():.0f} MB (+{rss_mb() - before:.0f} over the start); "
          f"cache {sorter.embedder.cached()} texts")


if __name__ == "__main__":
    main()

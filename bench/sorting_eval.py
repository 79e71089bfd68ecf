"""Quality of the sorting help on the evaluation set (docs/sorting.md).

    python -m bench.sorting_eval            # every candidate that is installed
    python -m bench.sorting_eval --sweep    # also each figure over a range of thresholds

Figures per candidate: ARI of the suggested themes against the hand themes (a note left
out counts as a theme of its own), pair precision and recall of the duplicate groups,
accuracy of "into existing themes" (three given notes per hand theme, the rest to place;
a note left out counts as wrong) and the hit rate of similar_notes (a query hits when one
of its target notes is among the three answers).
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from collections import Counter
from collections.abc import Iterable

from bench import sorting_data as data
from bench.sorting_models import EXTRA, EXTRA_TUNING
from server.sorting import TUNING, Cluster, Note, Sorter, Tuning
from server.sorting_embed import BACKENDS

TFIDF_TUNING = Tuning(theme=0.05, duplicate=0.15, fit=0.05, margin=0.0, similar=0.05)


def ari(truth: list[str], found: list[str]) -> float:
    """Adjusted Rand index of two labellings of the same items."""
    def comb2(k: int) -> float:
        return k * (k - 1) / 2

    pairs = Counter(zip(truth, found, strict=True))
    index = sum(comb2(c) for c in pairs.values())
    a = sum(comb2(c) for c in Counter(truth).values())
    b = sum(comb2(c) for c in Counter(found).values())
    expected = a * b / comb2(len(truth)) if len(truth) > 1 else 0.0
    top = (a + b) / 2
    return 0.0 if top == expected else (index - expected) / (top - expected)


def pairs(groups: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for g in groups for p in itertools.combinations(sorted(g), 2)}


def figures(sorter: Sorter, rows: list[data.Row] | None = None) -> dict[str, float]:
    """The figures over `rows` (default: every note); a query counts when one of its
    targets is among them, and finds among them only."""
    rows = rows if rows is not None else data.notes()
    ids = {r.id for r in rows}
    asked = [q for q in data.queries() if q.targets & ids]
    notes = [Note(r.id, r.text) for r in rows]
    out: dict[str, float] = {}

    start = time.perf_counter()
    suggestion = sorter.suggest(notes, [], "nl")
    out["suggest_s"] = time.perf_counter() - start
    label = {r.id: f"left:{r.id}" for r in rows}
    for k, theme in enumerate(suggestion.themes):
        label.update({i: f"theme:{k}" for i in theme.note_ids})
    out["ari"] = ari([r.theme for r in rows], [label[r.id] for r in rows])
    out["themes"] = len(suggestion.themes)
    out["left_out"] = sum(1 for v in label.values() if v.startswith("left:"))

    hand: dict[str, list[str]] = {}
    for r in rows:
        if r.dup:
            hand.setdefault(r.dup, []).append(r.id)
    truth, found = pairs(hand.values()), pairs(suggestion.duplicates)
    out["dup_precision"] = len(truth & found) / len(found) if found else math.nan
    out["dup_recall"] = len(truth & found) / len(truth)
    out["dup_groups"] = len(suggestion.duplicates)

    by_theme: dict[str, list[Note]] = {}
    for r in data.notes():      # the three given notes of every theme, in either half
        if r.given:
            by_theme.setdefault(r.theme, []).append(Note(r.id, r.text))
    titles = data.themes()
    clusters = [Cluster(t, titles[t][0], ns) for t, ns in by_theme.items()]
    rest = [r for r in rows if not r.given]
    placed = sorter.suggest([Note(r.id, r.text) for r in rest], clusters, "nl")
    where = {i: t.cluster_id for t in placed.themes if t.cluster_id for i in t.note_ids}
    right = sum(1 for r in rest if where.get(r.id) == r.theme)
    out["fit_accuracy"] = right / len(rest)
    out["fit_placed"] = len(where) / len(rest)
    out["fit_precision"] = right / len(where) if where else math.nan

    hits, times = 0, []
    for q in asked:
        start = time.perf_counter()
        answer = sorter.similar(q.text, notes, 3)
        times.append(time.perf_counter() - start)
        hits += any(s.note_id in q.targets for s in answer)
    out["similar_hit_rate"] = hits / len(asked) if asked else math.nan
    return out


def candidates(only: str | None = None) -> list[tuple[str, Sorter]]:
    found: list[tuple[str, Sorter]] = []
    for name in [*BACKENDS, *EXTRA]:
        if only and name != only:
            continue
        try:
            found.append((name, Sorter(name) if name in BACKENDS else
                          Sorter(name, EXTRA[name](), EXTRA_TUNING[name])))
        except ImportError as exc:
            print(f"{name}: not installed ({exc}); pip install -e '.[sorting-eval]'")
    corpus = [r.text for r in data.notes()] + [q.text for q in data.queries()]
    found.append(("tfidf", Sorter("tfidf", data.tfidf_backend(corpus), TFIDF_TUNING)))
    return found


def sweep(name: str, sorter: Sorter, rows: list[data.Row]) -> None:
    base = sorter.tuning
    for field in ("theme", "concepts", "later", "duplicate", "fit", "similar"):
        cells = []
        for value in (round(x, 3) for x in _grid(name, field)):
            sorter.tuning = base._replace(**{field: value})
            f = figures(sorter, rows)
            cell = {"theme": f"ari {f['ari']:.2f} n{f['themes']:.0f}",
                    "concepts": f"ari {f['ari']:.2f} fit {f['fit_accuracy']:.2f}",
                    "later": f"ari {f['ari']:.2f} fit {f['fit_accuracy']:.2f}",
                    "duplicate": f"P {f['dup_precision']:.2f} R {f['dup_recall']:.2f}",
                    "fit": f"acc {f['fit_accuracy']:.2f}",
                    "similar": f"hit {f['similar_hit_rate']:.2f}"}[field]
            cells.append(f"{value}: {cell}")
        print(f"  {name} {field}: " + " | ".join(cells))
    sorter.tuning = base


def _grid(name: str, field: str) -> list[float]:
    """Themes and duplicates are found on centred vectors (sorting_cluster.centered),
    whose cosines spread from 0 for every model; fit and similar use the raw ones."""
    if field == "concepts":
        return [0.0, 0.3, 0.5, 0.6, 0.7, 1.0]
    if field == "later":
        return [1.0, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]
    if field in ("theme", "duplicate"):
        return [0.05 * k for k in range(15)]
    if name == "e5" or (name == "e5c" and field == "similar"):
        return [0.80 + 0.01 * k for k in range(14)]
    if name == "tfidf":
        return [0.05 * k for k in range(1, 14)]
    if name == "usee5" and field == "similar":
        return [0.5 + 0.025 * k for k in range(14)]
    if name in EXTRA:
        return [0.1 + 0.05 * k for k in range(12)]
    return [0.2 + 0.05 * k for k in range(12)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sweep", action="store_true", help="figures over thresholds")
    parser.add_argument("--only", help="one candidate: use, e5, minilm, paraminilm, "
                        "static64 or tfidf")
    parser.add_argument("--concepts", type=float,
                        help="the concept lexicon's share for every candidate (0: the "
                        "model alone; default: each model's own tuning)")
    parser.add_argument("--set", default="stationsplein", choices=sorted(data.SETS),
                        help="which evaluation set")
    parser.add_argument("--half", default="all", choices=("all", "dev", "held"),
                        help="the development half (tuned on), the held-out half, or all")
    args = parser.parse_args()
    data.choose(args.set)
    rows = data.half(data.notes(), args.half)
    print(f"{len(rows)} notes, {len(set(r.theme for r in rows))} hand themes, "
          f"{len({r.dup for r in rows if r.dup})} duplicate groups, "
          f"{len(data.queries())} queries; tuning: {dict(TUNING)}")
    head = ("candidate", "ARI", "themes", "left out", "dup P", "dup R", "fit acc",
            "fit placed", "fit P", "similar hit")
    print(" | ".join(head))
    for name, sorter in candidates(args.only):
        if args.only and name != args.only:
            continue
        if args.concepts is not None:
            sorter.tuning = sorter.tuning._replace(concepts=args.concepts)
        f = figures(sorter, rows)
        print(" | ".join([name] + [f"{f[k]:.2f}" for k in (
            "ari", "themes", "left_out", "dup_precision", "dup_recall", "fit_accuracy",
            "fit_placed", "fit_precision", "similar_hit_rate")]))
        if args.sweep:
            sweep(name, sorter, rows)


if __name__ == "__main__":
    main()

"""What was tried beyond the shipped sorting method (docs/sorting.md, "What was tried"):
duplicate pair rankings and theme variants, on the same vectors as the server.

    python -m bench.sorting_tried [--set stationsplein|energie|wijk] [--half dev|held|all]

Duplicates: every pair of notes ranked by a score; for each ranking the precision where
the recall first reaches 0.1, 0.3 and 0.5 (the hand pairs found among the pairs ranked
so far), and the precision of the first 10 and 20 pairs. Themes: ARI of variants of the
shipped grouping (a note left out counts as a theme of its own).
"""

from __future__ import annotations

import argparse

import numpy as np
import numpy.typing as npt

from bench import sorting_data as data
from bench.sorting_eval import ari
from server import sorting_cluster as grouping
from server.sorting import TUNING, Sorter
from server.sorting_concepts import lexicon

Matrix = npt.NDArray[np.float64]
LEVELS = (0.1, 0.3, 0.5)


def precision_at_recall(scores: Matrix, truth: npt.NDArray[np.bool_],
                        levels: tuple[float, ...] = LEVELS) -> list[float]:
    """Pairs i < j ranked by `scores` (highest first, ties in index order): the precision
    at the first rank where the recall reaches each level (0.0 where it never does)."""
    upper = np.triu_indices(scores.shape[0], 1)
    hits = truth[upper][np.argsort(-scores[upper], kind="stable")]
    found = np.cumsum(hits)
    total = max(1, int(hits.sum()))
    out = []
    for level in levels:
        reach = np.nonzero(found / total >= level)[0]
        out.append(float(found[reach[0]] / (reach[0] + 1)) if len(reach) else 0.0)
    return out


def precision_at(scores: Matrix, truth: npt.NDArray[np.bool_], k: int) -> float:
    upper = np.triu_indices(scores.shape[0], 1)
    return float(truth[upper][np.argsort(-scores[upper], kind="stable")][:k].mean())


def csls(sims: Matrix, k: int) -> Matrix:
    """Hubness correction (cross-domain similarity local scaling): a pair's cosine less
    half the mean cosine of each note to its k nearest others."""
    other = sims.copy()
    np.fill_diagonal(other, -np.inf)
    near = np.sort(other, axis=1)[:, -k:].mean(axis=1)
    out: Matrix = sims - 0.5 * (near[:, None] + near[None, :])
    return out


def mutual_rank(sims: Matrix) -> Matrix:
    """Minus the larger of the two ranks (0 = each other's nearest), cosine to break ties."""
    other = sims.copy()
    np.fill_diagonal(other, -np.inf)
    rank = np.argsort(np.argsort(-other, axis=1), axis=1)
    out: Matrix = -np.maximum(rank, rank.T) + 1e-3 * sims
    return out


def rankings(texts: list[str], sentence: Matrix,
             themes: list[str]) -> dict[str, Matrix]:
    lex = lexicon()
    k = len(lex.concepts)
    meant = lex.vectors(texts).astype(np.float64)
    only = meant[:, :k] / np.maximum(np.linalg.norm(meant[:, :k], axis=1, keepdims=True),
                                     1e-12)
    concept = only @ only.T
    field = meant[:, k:] @ meant[:, k:].T
    first = [lex.concepts_of(t)[:1] for t in texts]
    same_first = np.array([[bool(a) and a == b for b in first] for a in first])
    near3 = np.sort(np.where(np.eye(len(texts)) > 0, -np.inf, sentence), axis=1)[:, -3]
    same_theme = np.array([[a == b for b in themes] for a in themes])
    return {
        "centred cosine (shipped basis)": sentence,
        "CSLS k=5": csls(sentence, 5),
        "CSLS k=5 of centred + 0.3 concept cosine": csls(sentence + 0.3 * concept, 5),
        "mutual rank": mutual_rank(sentence),
        "minus each note's 3rd-nearest cosine": sentence - np.maximum.outer(near3, near3),
        "same first concept, then cosine": np.where(same_first, sentence, sentence - 2),
        "same field but other concepts: -0.3": sentence - 0.3 * ((field > 0) & (concept == 0)),
        "oracle: cosine within the hand theme only": np.where(same_theme, sentence, -2.0),
    }


def theme_variants(sorter: Sorter, texts: list[str]) -> dict[str, list[list[int]]]:
    vectors = sorter.embedder.vectors(texts)
    tuning = sorter.tuning
    blended = grouping.blend(grouping.centered(vectors),
                             lexicon().vectors(texts, later=tuning.later),
                             tuning.concepts)
    shipped = grouping.themes(blended, tuning.theme)
    return {"shipped": shipped,
            "left-out notes to the nearest centroid": _polish(blended, shipped, True),
            "grouped notes re-placed at the nearest centroid (one pass)":
                _polish(blended, shipped, False),
            "both": _polish(blended, _polish(blended, shipped, False), True)}


def _polish(vectors: npt.NDArray[np.float32], groups: list[list[int]],
            left_out: bool) -> list[list[int]]:
    """One k-means pass: either the notes in no group join the nearest group (cosine to
    its mean at least 0), or every grouped note moves to the nearest group mean."""
    if not groups:
        return groups
    means = grouping.unit(np.stack([vectors[g].mean(axis=0) for g in groups]))
    scores = vectors @ means.T
    inside = {i for g in groups for i in g}
    out: list[list[int]] = [list(g) if left_out else [] for g in groups]
    for i in range(vectors.shape[0]):
        if (i in inside) != left_out and float(scores[i].max()) >= 0:
            out[int(np.argmax(scores[i]))].append(i)
    return [sorted(g) for g in out if len(g) >= 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", default="stationsplein", choices=sorted(data.SETS))
    parser.add_argument("--half", default="all", choices=("all", "dev", "held"))
    args = parser.parse_args()
    data.choose(args.set)
    rows = data.half(data.notes(), args.half)
    texts = [r.text for r in rows]
    sorter = Sorter("use")
    vectors = grouping.centered(sorter.embedder.vectors(texts))
    sentence = (vectors @ vectors.T).astype(np.float64)
    truth = np.array([[a is not b and bool(a.dup) and a.dup == b.dup for b in rows]
                      for a in rows])
    print(f"{args.set} / {args.half}: {len(rows)} notes, "
          f"{int(truth.sum()) // 2} hand duplicate pairs; tuning {TUNING['use']._asdict()}")
    print("duplicates: precision at recall 0.1 / 0.3 / 0.5 | at 10 and 20 pairs")
    for name, scores in rankings(texts, sentence, [r.theme for r in rows]).items():
        at = " / ".join(f"{p:.2f}" for p in precision_at_recall(scores, truth))
        print(f"  {name:<44} {at} | {precision_at(scores, truth, 10):.2f} "
              f"{precision_at(scores, truth, 20):.2f}")
    print("themes: ARI (themes, left out)")
    for name, groups in theme_variants(sorter, texts).items():
        where = {i: k for k, g in enumerate(groups) for i in g}
        found = [f"t{where[i]}" if i in where else f"left{i}" for i in range(len(rows))]
        print(f"  {name:<58} {ari([r.theme for r in rows], found):.2f} "
              f"({len(groups)}, {len(rows) - len(where)})")


if __name__ == "__main__":
    main()

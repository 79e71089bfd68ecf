"""The measures behind docs/sorting.md "What was tried" (bench/sorting_tried.py)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.sorting_tried import csls, mutual_rank, precision_at, precision_at_recall


def test_precision_where_the_recall_is_first_reached() -> None:
    scores = np.array([[1.0, 0.9, 0.8, 0.7],
                       [0.9, 1.0, 0.6, 0.5],
                       [0.8, 0.6, 1.0, 0.4],
                       [0.7, 0.5, 0.4, 1.0]])
    truth = np.zeros((4, 4), dtype=bool)
    for i, j in ((0, 1), (1, 2)):       # ranked 1st and 4th of the 6 pairs
        truth[i, j] = truth[j, i] = True
    assert precision_at_recall(scores, truth, (0.1, 0.5, 1.0)) == [1.0, 1.0, 0.5]
    assert precision_at(scores, truth, 2) == 0.5
    assert precision_at_recall(scores, np.zeros((4, 4), dtype=bool), (0.5,)) == [0.0]


def test_hubness_correction_and_mutual_rank() -> None:
    sims = np.array([[1.0, 0.8, 0.2],
                     [0.8, 1.0, 0.6],
                     [0.2, 0.6, 1.0]])
    # Nearest other (k=1): 0.8, 0.8, 0.6. Pair (1, 2): 0.6 - (0.8 + 0.6) / 2 = -0.1.
    assert csls(sims, 1)[1, 2] == pytest.approx(-0.1)
    assert csls(sims, 1)[0, 1] == pytest.approx(0.0)
    # 0 and 1 are each other's nearest (rank 0); for 2, 1 is nearest but for 1, 2 is 2nd.
    ranks = np.round(mutual_rank(sims))
    assert ranks[0, 1] == 0 and ranks[1, 2] == -1 and ranks[0, 2] == -1

"""Grouping by meaning for the sorting help: themes, duplicates, and which existing
cluster an unsorted note fits. Plain numpy over unit vectors (dot product = cosine).

- Themes: agglomerative clustering with average linkage, merging while the two closest
  groups are on average at least `threshold` alike.
- Duplicates: the same with complete linkage (every pair in a group at least `threshold`
  alike), so a chain of half-alike notes never becomes one "duplicate" group.
- Into existing clusters: each note goes to the cluster whose examples it is nearest
  (centroid), if that is at least `threshold` and beats the next cluster by `margin`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from server.sorting_embed import Vectors, unit

Linkage = Literal["average", "complete"]
# Over this many notes the O(n²) merging would take too long on a small server: the rest
# of the notes join the nearest group formed among the first ones (still no note lost).
MAX_CLUSTERED = 1200


def similarities(vectors: Vectors) -> npt.NDArray[np.float32]:
    sims = (vectors @ vectors.T).astype(np.float32)
    return np.clip(sims, -1.0, 1.0)


def agglomerate(sims: npt.NDArray[np.float32], threshold: float,
                linkage: Linkage = "average") -> list[list[int]]:
    """Groups of indices (each a list, ascending; groups by their first index) formed by
    merging while the best linkage similarity is at least `threshold`."""
    n = sims.shape[0]
    if n == 0:
        return []
    matrix = sims.astype(np.float64, copy=True)
    np.fill_diagonal(matrix, -np.inf)
    size = np.ones(n)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    while len(members) > 1:
        flat = int(np.argmax(matrix))
        i, j = divmod(flat, n)
        if matrix[i, j] < threshold:
            break
        if i > j:
            i, j = j, i
        if linkage == "average":
            row = (size[i] * matrix[i] + size[j] * matrix[j]) / (size[i] + size[j])
        else:
            row = np.minimum(matrix[i], matrix[j])
        matrix[i] = row
        matrix[:, i] = row
        matrix[i, i] = -np.inf
        matrix[j] = -np.inf
        matrix[:, j] = -np.inf
        size[i] += size[j]
        members[i].extend(members.pop(j))
    return sorted((sorted(g) for g in members.values()), key=lambda g: g[0])


def themes(vectors: Vectors, threshold: float, min_size: int = 2) -> list[list[int]]:
    """Theme groups of at least `min_size` notes; notes that fit no group are left out."""
    n = vectors.shape[0]
    if n < min_size:
        return []
    head = min(n, MAX_CLUSTERED)
    groups = agglomerate(similarities(vectors[:head]), threshold)
    groups = [g for g in groups if len(g) >= min_size]
    if n > head and groups:
        centroids = np.stack([vectors[g].mean(axis=0) for g in groups])
        best = np.argmax(vectors[head:] @ centroids.T, axis=1)
        scores = np.max(vectors[head:] @ centroids.T, axis=1)
        for offset, (g, score) in enumerate(zip(best, scores, strict=True)):
            if score >= threshold:
                groups[int(g)].append(head + offset)
    return groups


def duplicates(vectors: Vectors, threshold: float) -> list[list[int]]:
    """Groups of two or more notes that are pairwise at least `threshold` alike."""
    head = min(vectors.shape[0], MAX_CLUSTERED)
    groups = agglomerate(similarities(vectors[:head]), threshold, "complete")
    return [g for g in groups if len(g) >= 2]


def centered(vectors: Vectors, weight: float = 10.0) -> Vectors:
    """The vectors less what they all share, renormalised, so that "about the station
    square" stops counting as alike. The mean is shrunk for a few notes (n/(n+weight)):
    two notes less their full mean would always be opposite."""
    n = vectors.shape[0]
    if n == 0:
        return vectors
    shift = vectors.mean(axis=0) * (n / (n + weight))
    return unit(vectors - shift)


def blend(sentences: Vectors, concepts: Vectors, weight: float) -> Vectors:
    """Sentence and concept vectors side by side, so that a dot product is
    (1 − weight) × the sentence cosine + weight × the concept cosine."""
    if weight <= 0:
        return sentences
    out: Vectors = np.hstack([sentences * np.float32(np.sqrt(1 - weight)),
                              concepts * np.float32(np.sqrt(weight))]).astype(np.float32)
    return out


def central(vectors: Vectors, group: list[int]) -> int:
    """The member nearest to the group's mean: its most typical note."""
    part = vectors[group]
    mean = part.mean(axis=0)
    return group[int(np.argmax(part @ mean))]


def assign(vectors: Vectors, examples: list[Vectors], threshold: float,
           margin: float) -> list[int | None]:
    """For each row of `vectors`, the index of the example set it fits, or None."""
    if not examples or vectors.shape[0] == 0:
        return [None] * vectors.shape[0]
    centroids = np.stack([_centroid(e, vectors.shape[1]) for e in examples])
    scores = vectors @ centroids.T
    out: list[int | None] = []
    for row in scores:
        order = np.argsort(-row)
        best = float(row[order[0]])
        second = float(row[order[1]]) if len(order) > 1 else -1.0
        out.append(int(order[0]) if best >= threshold and best - second >= margin else None)
    return out


def _centroid(examples: Vectors, dim: int) -> npt.NDArray[np.float32]:
    if examples.shape[0] == 0:
        return np.zeros(dim, dtype=np.float32)
    mean = examples.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    out: npt.NDArray[np.float32] = (mean / norm if norm else mean).astype(np.float32)
    return out

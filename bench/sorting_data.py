"""The sorting evaluation set (tests/data/sorting) and the TF-IDF word-overlap baseline."""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from server.sorting_embed import Backend
from server.sorting_words import words

ROOT = Path(__file__).resolve().parents[1] / "tests" / "data"
# The evaluation sets: the one everything was built and tuned on, and a second one on
# another question, written after the concept lexicon and tuned on nothing.
SETS = {"stationsplein": ROOT / "sorting", "energie": ROOT / "sorting_energie",
        "wijk": ROOT / "sorting_wijk"}
DATA = SETS["stationsplein"]


def choose(name: str) -> None:
    """Read the evaluation set `name` (a key of SETS) from now on."""
    global DATA
    DATA = SETS[name]


@dataclass(frozen=True)
class Row:
    id: str
    theme: str
    dup: str
    given: bool
    who: str
    text: str


@dataclass(frozen=True)
class Query:
    text: str
    targets: frozenset[str]


def _tsv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def notes() -> list[Row]:
    return [Row(r["id"], r["theme"], r["dup"], r["given"] == "g", r["who"], r["text"])
            for r in _tsv("notes.tsv")]


def half(rows: list[Row], which: str) -> list[Row]:
    """The development half ("dev": the 1st, 3rd, ... note of each hand theme, in file
    order), the held-out half ("held": the others) or every row ("all"). Tuning looks
    only at "dev"."""
    if which == "all":
        return rows
    seen: dict[str, int] = {}
    out = []
    for r in rows:
        k = seen.get(r.theme, 0)
        seen[r.theme] = k + 1
        if (k % 2 == 0) == (which == "dev"):
            out.append(r)
    return out


def queries() -> list[Query]:
    return [Query(r["text"], frozenset(r["targets"].split())) for r in _tsv("queries.tsv")]


def themes() -> dict[str, tuple[str, str]]:
    return {r["theme"]: (r["title_nl"], r["title_en"]) for r in _tsv("themes.tsv")}


def tfidf_backend(corpus: list[str]) -> Backend:
    """Word overlap: TF-IDF (sublinear tf, smoothed idf) over stemmed content words, the
    idf taken from `corpus`; unit rows, so a dot product is the cosine."""
    df: Counter[str] = Counter()
    for text in corpus:
        df.update(st for st, _ in words(text))
    vocab = {w: i for i, w in enumerate(sorted(df))}
    n = len(corpus)
    idf = np.array([math.log((1 + n) / (1 + df[w])) + 1 for w in sorted(df)])

    def encode(texts: list[str]) -> npt.NDArray[np.float64]:
        out = np.zeros((len(texts), max(1, len(vocab))))
        for row, text in enumerate(texts):
            counts = Counter(st for st, _ in words(text))
            for st, c in counts.items():
                if st in vocab:
                    out[row, vocab[st]] = (1 + math.log(c)) * idf[vocab[st]]
        return out

    backend = Backend(encode, max(1, len(vocab)))
    backend.name = "tfidf-cosine"
    return backend

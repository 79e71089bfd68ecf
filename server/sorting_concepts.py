"""Concepts for the sorting help: a small lexicon of what residents' evenings are about
(heat, shade, bike parking, litter, ...), shipped as server/sorting_data/concepts.tsv, and
Dutch compound splitting against it ("fietsenstalling" → fiets + stalling, "bloedheet" →
heet).

Why: a small sentence encoder reads "meer bomen, het is bloedheet" and "nergens schaduw
bij de bus" as far apart; both name the field "groen" (trees; heat; shade). A note's
concepts become a vector beside its sentence vector (docs/sorting.md, "Method").
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from server.sorting_embed import CACHE_SIZE, MAX_CHARS, Vectors

LEXICON = Path(__file__).resolve().parent / "sorting_data" / "concepts.tsv"
TOKEN = re.compile(r"[a-z0-9]+")
# Endings tried when a word is not in the lexicon as written; longest first.
ENDINGS = ("tjes", "etje", "jes", "tje", "ers", "en", "er", "je", "es", "s", "e", "n")
MIN_PART = 3     # a compound part has at least this many letters
MIN_COMPOUND = 4  # only terms this long are looked for inside compounds
MIN_FIRST = 5     # a known first part with an unknown rest: only this long ("geld|ende" no)


class Concept(NamedTuple):
    name: str
    field: str
    label_nl: str
    label_en: str


class Lexicon:
    """Terms → concepts, and how to find them in a note."""

    def __init__(self, concepts: list[Concept], terms: dict[str, set[int]],
                 whole: dict[str, set[int]]) -> None:
        self.concepts = concepts
        self.fields = sorted({c.field for c in concepts})
        self._terms = terms     # may be found inside a compound
        self._whole = whole     # only as a whole word
        self._field_of = [self.fields.index(c.field) for c in concepts]
        self._memo: dict[str, frozenset[int]] = {}
        self._notes: dict[str, dict[int, list[str]]] = {}
        self._lock = threading.Lock()

    def lookup(self, word: str) -> set[int]:
        """Concepts of a word as written or with one ending taken off ("bomen",
        "bankjes" → bank); a doubled last consonant is undone ("bussen" → bus)."""
        for form in _forms(word):
            hit = self._terms.get(form) or self._whole.get(form)
            if hit:
                return hit
        return set()

    def _part(self, word: str, least: int = MIN_COMPOUND) -> set[int]:
        for form in _forms(word):
            hit = self._terms.get(form)
            if hit and len(form) >= least:
                return hit
        return set()

    def split(self, word: str) -> frozenset[int]:
        """Concepts of a word, whole or as a compound (remembered; see _split)."""
        found = self._memo.get(word)
        if found is None:
            found = frozenset(self._split(word))
            if len(self._memo) < 100_000:
                self._memo[word] = found
        return found

    def _split(self, word: str) -> set[int]:
        """Concepts of a word, whole or as a compound: the longest known head
        ("fietsen|stalling"), then the rest the same way; else the longest known first
        part ("parkeer|verbod")."""
        found = self.lookup(word)
        if found or len(word) < 2 * MIN_PART:
            return set(found)
        for cut in range(MIN_PART, len(word) - MIN_PART + 1):
            head = self._part(word[cut:])
            if head:
                return head | self._split(word[:cut])
        for cut in range(len(word) - MIN_PART, MIN_FIRST - 1, -1):
            first = self._part(word[:cut], MIN_FIRST)
            if first:
                return set(first)
        return set()

    def read(self, text: str) -> dict[int, list[str]]:
        """The concepts a note names, in order of first mention, each with the words of
        the note that name it (remembered by text: notes are read again at every
        suggest)."""
        found = self._notes.get(text)
        if found is None:
            found = {}
            for word in dict.fromkeys(TOKEN.findall(_ascii(text[:MAX_CHARS]))):
                for k in sorted(self.split(word)):
                    found.setdefault(k, []).append(word)
            with self._lock:
                if len(self._notes) >= CACHE_SIZE:
                    self._notes.pop(next(iter(self._notes)))
                self._notes[text] = found
        return found

    def concepts_of(self, text: str) -> list[int]:
        """Indices of the concepts a note names, each once, in order of first mention."""
        return list(self.read(text))

    def words_for(self, text: str, concept: int) -> list[str]:
        """The words of a note that name this concept (for a reason)."""
        return list(self.read(text).get(concept, []))

    def topics(self, texts: Sequence[str], limit: int = 2) -> list[tuple[int, int, list[str]]]:
        """The concepts a group of notes is about: (concept, how many notes name it, the
        words they use for it), named by at least two notes and a third of them, most
        named first."""
        count: dict[int, int] = {}
        used: dict[int, dict[str, None]] = {}
        for text in texts:
            for k, named in self.read(text).items():
                count[k] = count.get(k, 0) + 1
                for w in named:
                    used.setdefault(k, {})[w] = None
        need = max(2, -(-len(texts) // 3))
        ranked = sorted((k for k, c in count.items() if c >= need),
                        key=lambda k: (-count[k], k))
        return [(k, count[k], list(used[k])[:4]) for k in ranked[:limit]]

    def vectors(self, texts: Sequence[str], field_weight: float = 1.0,
                later: float = 1.0) -> Vectors:
        """One row per text: its concepts weighted by how rare they are among these texts
        (so a concept every note names, like the place itself, counts little) and by the
        order the note names them in (the n-th concept named × `later`**(n-1): a note
        mostly says first what it is about), plus its fields at `field_weight`; unit
        length, zero for a note that names no concept."""
        found = [self.concepts_of(t) for t in texts]
        k, f = len(self.concepts), len(self.fields)
        out = np.zeros((len(texts), k + f), dtype=np.float32)
        df = np.zeros(k)
        for ks in found:
            df[ks] += 1
        idf = np.log((len(texts) + 1) / (df + 1)) + 1
        for row, ks in enumerate(found):
            for rank, c in enumerate(ks):
                weight = idf[c] * later ** rank
                out[row, c] = weight
                out[row, k + self._field_of[c]] = max(out[row, k + self._field_of[c]],
                                                      field_weight * weight)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        result: Vectors = (out / norms).astype(np.float32)
        return result


def _ascii(text: str) -> str:
    """Lower case, accents off, anything not Latin dropped ("Creëer 🌳" → "creeer "): the
    lexicon's terms are plain ASCII."""
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()


def _forms(word: str) -> list[str]:
    forms = [word]
    for ending in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_PART:
            stem = word[: -len(ending)]
            forms.append(stem)
            if len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "aeiou":
                forms.append(stem[:-1])
    return forms


@functools.lru_cache(maxsize=1)
def lexicon(path: Path = LEXICON) -> Lexicon:
    """The shipped lexicon, read once."""
    concepts: list[Concept] = []
    terms: dict[str, set[int]] = {}
    whole: dict[str, set[int]] = {}
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    for line in lines[1:]:
        name, field, nl, en, words = line.split("\t")
        index = len(concepts)
        concepts.append(Concept(name, field, nl, en))
        for term in words.split():
            table = whole if term.startswith("=") else terms
            table.setdefault(term.lstrip("="), set()).add(index)
    return Lexicon(concepts, terms, whole)


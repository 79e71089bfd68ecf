"""The sorting help's grouping on small fixed sets (issue 11, acceptance 1).

The real model (the one pyproject installs) loads once for the session through
`server.sorting.sorter()`. Quality on the full evaluation set: `python -m bench.sorting_eval`.
"""

from __future__ import annotations

import itertools

import pytest

from server.sorting import Cluster, Note, Sorter, Suggestion, sorter

BIKES = ["de fietsenstalling is altijd vol", "nergens plek om mijn fiets te parkeren",
         "meer fietsenrekken bij het station", "fietsenstalling uitbreiden graag"]
LITTER = ["overal zwerfafval op straat", "de prullenbakken puilen uit",
          "meer vuilnisbakken tegen het afval", "het afval ligt overal op het plein"]


@pytest.fixture(scope="session")
def model() -> Sorter:
    return sorter()


def notes(texts: list[str], prefix: str = "n") -> list[Note]:
    return [Note(f"{prefix}{i}", t) for i, t in enumerate(texts)]


def check_shape(result: Suggestion, given: list[Note]) -> None:
    ids = {n.id for n in given}
    themed = [i for t in result.themes for i in t.note_ids]
    assert len(themed) == len(set(themed)), "a note in at most one theme"
    assert set(themed) <= ids
    dup = [i for g in result.duplicates for i in g]
    assert len(dup) == len(set(dup)), "a note in at most one duplicate group"
    assert set(dup) <= ids
    assert all(len(g) >= 2 for g in result.duplicates)
    for theme in result.themes:
        assert theme.title and theme.reason
        assert theme.cluster_id is not None or len(theme.note_ids) >= 2


def test_empty_gives_nothing(model: Sorter) -> None:
    assert model.suggest([], [], "nl") == Suggestion([], [])
    assert model.similar("meer bomen", [], 3) == []


def test_one_note_makes_no_theme(model: Sorter) -> None:
    assert model.suggest(notes(["meer bomen op het plein"]), [], "nl") == Suggestion([], [])


def test_two_clear_topics_make_two_themes(model: Sorter) -> None:
    given = notes(BIKES, "b") + notes(LITTER, "l")
    result = model.suggest(given, [], "nl")
    check_shape(result, given)
    assert sorted(sorted(t.note_ids) for t in result.themes) == [
        [f"b{i}" for i in range(4)], [f"l{i}" for i in range(4)]]
    bikes = next(t for t in result.themes if "b0" in t.note_ids)
    assert bikes.title == "Fietsparkeren", "titled by the concept its notes name"
    assert bikes.reason.startswith("Deze 4 briefjes")
    assert "„fietsenstalling”" in bikes.reason, "a shared word is named in the reason"


def test_exact_duplicates_are_grouped(model: Sorter) -> None:
    given = notes(["meer bomen op het plein", "de bus is altijd te laat",
                   "meer bomen op het plein", "fietsenstalling is vol"])
    result = model.suggest(given, [], "nl")
    check_shape(result, given)
    assert result.duplicates == [["n0", "n2"]]


def test_only_emoji_never_raises(model: Sorter) -> None:
    given = notes(["🌳🌳🌳", "😡", "👍👍", "🚲", "🌳🌳🌳", "   ", "!!!"])
    result = model.suggest(given, [], "nl")
    check_shape(result, given)
    assert ["n0", "n4"] in result.duplicates
    for theme in result.themes:      # no shared words: the reason quotes a note instead
        assert "zonder een woord dat ze delen" in theme.reason


def test_html_looking_text_stays_text(model: Sorter) -> None:
    given = notes(["<b>meer bomen</b> <script>alert(1)</script>",
                   "<b>meer bomen</b> <script>alert(1)</script> graag", "fietsen!!"])
    result = model.suggest(given, [], "nl")
    check_shape(result, given)
    theme = next(t for t in result.themes if "n0" in t.note_ids)
    assert "<b>meer bomen</b>" in theme.reason, "quoted as written, not escaped or parsed"


def test_a_thousand_notes_answer(model: Sorter) -> None:
    words = ["bomen", "fiets", "afval", "bankjes", "bus", "licht", "markt", "lift"]
    texts = [f"{a} en {b} bij het station {k}" for k, (a, b) in
             zip(range(1000), itertools.cycle(itertools.permutations(words, 2)))]
    given = notes(texts)
    result = model.suggest(given, [], "nl")
    check_shape(result, given)
    assert result.themes


def test_mixed_languages(model: Sorter) -> None:
    given = notes(["Please plant more trees, it is far too hot", "meer bomen, het is bloedheet",
                   "de bus komt altijd te laat", "the bus is always late"])
    hits = model.similar("more trees please", given, 3)
    assert hits[0].note_id in {"n0", "n1"}
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    result = model.suggest(given, [], "en")
    check_shape(result, given)
    assert all(t.reason.startswith("These ") for t in result.themes)


def test_similar_returns_at_most_the_limit_and_only_candidates(model: Sorter) -> None:
    given = notes(BIKES + LITTER)
    hits = model.similar("mijn fiets kan nergens staan", given, 3)
    assert 1 <= len(hits) <= 3
    assert hits[0].note_id in {"n0", "n1", "n2", "n3"}
    assert {h.text for h in hits} <= set(BIKES + LITTER)
    assert model.similar("mijn fiets kan nergens staan", given, 1)[0] == hits[0]


def test_into_existing_clusters(model: Sorter) -> None:
    clusters = [Cluster("c1", "Fietsen", notes(BIKES[:3], "b")),
                Cluster("c2", "Afval", notes(LITTER[:3], "l"))]
    unsorted = [Note("u1", BIKES[3]), Note("u2", LITTER[3])]
    result = model.suggest(unsorted, clusters, "nl")
    check_shape(result, unsorted)
    placed = {t.cluster_id: (t.title, t.note_ids) for t in result.themes if t.cluster_id}
    assert placed == {"c1": ("Fietsen", ["u1"]), "c2": ("Afval", ["u2"])}
    assert "„Fietsen”" in next(t for t in result.themes if t.cluster_id == "c1").reason


def test_warm_fills_the_cache(model: Sorter) -> None:
    before = model.embedder.cached()
    model.warm(["een briefje dat nog niemand schreef 7f3a"])
    assert model.embedder.cached() == before + 1


def test_emoji_only_text_finds_only_the_same_text(model: Sorter) -> None:
    given = notes(["🌳🌳", "meer bomen graag", "😡", "🌳🌳"])
    assert [h.note_id for h in model.similar("🌳🌳", given, 3)] == ["n0", "n3"]
    assert all(h.note_id not in {"n0", "n2", "n3"}
               for h in model.similar("meer groen en bomen", given, 3))
    clusters = [Cluster("c1", "Groen", notes(["meer bomen", "bloembakken"], "g"))]
    result = model.suggest(notes(["🌳", "😡"]), clusters, "nl")
    assert result.themes == [], "an emoji note fits no cluster by meaning"


def test_a_very_long_note_answers(model: Sorter) -> None:
    given = notes(["meer bomen " * 20_000, "meer bomen", "de bus is te laat"])
    result = model.suggest(given, [], "nl")
    check_shape(result, given)
    assert model.similar("bomen " * 10_000, given, 3)

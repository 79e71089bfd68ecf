"""The concept lexicon and Dutch compound splitting of the sorting help (issue 11;
server/sorting_concepts.py, server/sorting_data/concepts.tsv)."""

from __future__ import annotations

import numpy as np
import pytest

from server.sorting import Note, Sorter, sorter
from server.sorting_concepts import lexicon


def names(word: str) -> list[str]:
    lex = lexicon()
    return sorted(lex.concepts[k].name for k in lex.split(word))


@pytest.mark.parametrize(("word", "expected"), [
    ("fietsenstalling", ["fietsparkeren"]),      # a whole term
    ("fietsenstaling", ["fietsparkeren"]),       # a common misspelling
    ("bloedheet", ["hitte"]),                    # bloed | heet
    ("straatverlichting", ["licht"]),            # straat | verlichting
    ("weesfietsen", ["fiets"]),                  # wees | fietsen
    ("geveltuintjes", ["groen"]),                # gevel | tuin + -tjes
    ("parkeerverbod", ["auto"]),                 # a known first part, unknown rest
    ("stoeptegels", ["toegankelijk", "verharding"]),  # stoep | tegels: both parts
    ("bussen", ["ov"]),                          # whole-word term with its plural
    ("abuis", []),                               # "=bus" only as a whole word
    ("heeft", []),
    ("geldende", []),                            # geld | ende: too short a first part
])
def test_compound_splitting(word: str, expected: list[str]) -> None:
    assert names(word) == expected


def test_concepts_of_a_note_in_order_of_mention() -> None:
    lex = lexicon()
    found = lex.concepts_of("meer bomen, het is bloedheet!!")
    assert [lex.concepts[k].name for k in found] == ["bomen", "hitte"]
    assert lex.words_for("meer bomen, het is bloedheet!!", found[1]) == ["bloedheet"]


def test_paraphrases_without_a_shared_word_meet_in_their_field() -> None:
    vectors = lexicon().vectors(["meer bomen, het is bloedheet", "nergens schaduw hier",
                                 "overal zwerfafval"])
    assert float(vectors[0] @ vectors[1]) > 0.3     # trees/heat and shade: field groen
    assert float(vectors[0] @ vectors[2]) == 0.0


def test_concepts_named_later_weigh_less() -> None:
    lex = lexicon()
    k = len(lex.concepts)
    groen = k + lex.fields.index("groen")
    bomen, hitte = lex.concepts_of("meer bomen, het is bloedheet")
    flat = lex.vectors(["meer bomen, het is bloedheet"])[0]
    assert flat[[bomen, hitte, groen]] == pytest.approx([3 ** -0.5] * 3)
    # One note: every concept has idf 1; hitte, named second, at half weight; the field
    # takes the larger of its concepts' weights. Norm sqrt(1 + 0.25 + 1) = 1.5.
    later = lex.vectors(["meer bomen, het is bloedheet"], later=0.5)[0]
    assert later[[bomen, hitte, groen]] == pytest.approx([2 / 3, 1 / 3, 2 / 3])
    assert float(np.abs(later).sum()) == pytest.approx(5 / 3)


HEAT = ["meer bomen, het is bloedheet!!", "nergens schaduw bij de bus",
        "Please plant more trees, it is an oven here in July",
        "t is een stenen woestijn, haal die tegels weg"]
BIKE = ["fietsenstaling altijd vol!!", "nooit plek voor mn fiets",
        "De stallingscapaciteit voor rijwielen is ontoereikend",
        "There is no room to park a bike"]
LITTER = ["overal zwerfafval", "de prullenbakken puilen uit",
          "Please empty the bins more often", "peuken en blikjes op de grond"]


@pytest.fixture(scope="module")
def model() -> Sorter:
    return sorter()


def test_concepts_group_notes_that_share_few_words(model: Sorter) -> None:
    given = ([Note(f"h{i}", t) for i, t in enumerate(HEAT)]
             + [Note(f"b{i}", t) for i, t in enumerate(BIKE)]
             + [Note(f"l{i}", t) for i, t in enumerate(LITTER)])
    groups = [sorted(t.note_ids) for t in model.suggest(given, [], "nl").themes]
    assert ["b0", "b1", "b2", "b3"] in groups
    assert ["l0", "l1", "l2", "l3"] in groups
    assert all(all(i.startswith("h") for i in g) for g in groups if "h0" in g or "h1" in g
               or "h2" in g or "h3" in g)


def test_a_theme_is_named_by_what_its_notes_say(model: Sorter) -> None:
    given = [Note(f"b{i}", t) for i, t in enumerate(BIKE)] + [
        Note(f"l{i}", t) for i, t in enumerate(LITTER)]
    themes = model.suggest(given, [], "nl").themes
    litter = next(t for t in themes if "l0" in t.note_ids)
    assert litter.title == "Schoon en afval"
    assert litter.reason.startswith("Deze 4 briefjes gaan over schoon en afval (4 van de 4: ")
    assert "„zwerfafval”" in litter.reason and "„bins”" in litter.reason


def test_a_note_joins_the_theme_of_what_it_names_first(model: Sorter) -> None:
    """"weesfietsen opruimen" names bikes, then tidying: with every concept at full
    weight it went to the litter theme (docs/sorting.md, "later"); now to the bikes."""
    given = ([Note(f"b{i}", t) for i, t in enumerate(BIKE)]
             + [Note(f"l{i}", t) for i, t in enumerate(LITTER)]
             + [Note("x", "weesfietsen opruimen, ze staan er al maanden")])
    groups = [sorted(t.note_ids) for t in model.suggest(given, [], "nl").themes]
    assert groups == [["b0", "b1", "b2", "b3", "x"], ["l0", "l1", "l2", "l3"]]

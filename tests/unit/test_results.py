"""server/results.py: ranking, common ground, divided items and the small-group guard."""

from __future__ import annotations

from typing import Any

from server import results
from server.results import MIN_GROUP, OTHER, by_perspective, common_ground, divided, ranking

GROUPS = ["Bewoner", "Ambtenaar", "Ondernemer"]


def people(**sizes: int) -> dict[str, dict[str, Any]]:
    """Participants per perspective: people(Bewoner=3) -> b0, b1, b2."""
    out: dict[str, dict[str, Any]] = {}
    for group, n in sizes.items():
        for i in range(n):
            pid = f"{group[:3].lower()}{i}"
            out[pid] = {"participant_id": pid, "perspective": None if group == "none" else group}
    return out


def test_ranking_orders_by_total_then_id() -> None:
    assert ranking({"b": 2, "a": 5, "c": 2, "d": 9}) == ["d", "a", "b", "c"]


def test_ranking_ties_are_stable_by_id() -> None:
    assert ranking({"z": 1, "m": 1, "a": 1}) == ["a", "m", "z"]


def test_ranking_leaves_out_items_without_dots() -> None:
    assert ranking({"a": 0, "b": 1}) == ["b"]
    assert ranking({}) == []


def test_empty_summary() -> None:
    out = results.summary({}, {}, GROUPS)
    assert out == {"totals": {}, "voters": 0, "by_perspective": {}, "ranking": [],
                   "common_ground": [], "divided": []}


def test_summary_totals_and_voters() -> None:
    ballots = {"p1": {"a": 2, "b": 1}, "p2": {"b": 3}, "p3": {}}
    out = results.summary(ballots, people(none=3), [])
    assert out["totals"] == {"a": 2, "b": 4}
    assert out["voters"] == 2
    assert out["ranking"] == ["b", "a"]
    assert out["by_perspective"] == {}  # no perspectives in this workshop
    assert out["common_ground"] == out["ranking"]
    assert out["divided"] == []


def test_summary_limited_to_items() -> None:
    ballots = {"p1": {"a": 2, "hidden": 3}}
    out = results.summary(ballots, people(none=1), [], items={"a"})
    assert out["totals"] == {"a": 2}
    assert "hidden" not in out["ranking"]


def test_group_of_small_group_guard() -> None:
    sizes = {"Bewoner": MIN_GROUP, "Ambtenaar": MIN_GROUP - 1}
    assert results.group_of("Bewoner", sizes, GROUPS) == "Bewoner"
    assert results.group_of("Ambtenaar", sizes, GROUPS) == OTHER
    assert results.group_of(None, sizes, GROUPS) == OTHER
    assert results.group_of("Koning", {"Koning": 10}, GROUPS) == OTHER


def test_small_group_counts_under_other() -> None:
    parts = people(Bewoner=3, Ambtenaar=2)
    ballots = {pid: {"x": 1} for pid in parts}
    groups = by_perspective(ballots, parts, GROUPS)
    assert groups == {"Bewoner": {"x": 3}, OTHER: {"x": 2}}
    assert "Ambtenaar" not in groups


def test_group_of_exactly_three_is_shown() -> None:
    parts = people(Bewoner=3, Ambtenaar=3)
    ballots = {pid: {"x": 1} for pid in parts}
    assert by_perspective(ballots, parts, GROUPS) == {"Bewoner": {"x": 3}, "Ambtenaar": {"x": 3}}


def test_people_without_perspective_count_under_other() -> None:
    parts = {**people(Bewoner=3), **people(none=2)}
    ballots = {pid: {"x": 1} for pid in parts}
    assert by_perspective(ballots, parts, GROUPS) == {"Bewoner": {"x": 3}, OTHER: {"x": 2}}


def common_ground_case() -> tuple[dict[str, dict[str, int]], dict[str, dict[str, Any]]]:
    """Two groups of 3 with 5 dots each (15 per group).

    shared: 3 dots from each group (both back it); loved: 12 dots from Bewoner only;
    theirs: 12 from Ambtenaar only. By total, loved and theirs lead; by common ground,
    shared does.
    """
    parts = people(Bewoner=3, Ambtenaar=3)
    ballots = {
        "bew0": {"shared": 1, "loved": 4}, "bew1": {"shared": 1, "loved": 4},
        "bew2": {"shared": 1, "loved": 4},
        "amb0": {"shared": 1, "theirs": 4}, "amb1": {"shared": 1, "theirs": 4},
        "amb2": {"shared": 1, "theirs": 4},
    }
    return ballots, parts


def test_common_ground_puts_shared_support_first() -> None:
    ballots, parts = common_ground_case()
    out = results.summary(ballots, parts, GROUPS)
    assert out["totals"] == {"shared": 6, "loved": 12, "theirs": 12}
    assert out["ranking"] == ["loved", "theirs", "shared"]
    assert out["common_ground"][0] == "shared"
    assert set(out["common_ground"]) == set(out["ranking"])


def test_divided_lists_items_one_group_backs_and_another_does_not() -> None:
    ballots, parts = common_ground_case()
    out = results.summary(ballots, parts, GROUPS)
    assert out["divided"] == ["loved", "theirs"]
    assert "shared" not in out["divided"]


def test_one_perspective_only_falls_back_to_ranking() -> None:
    parts = {**people(Bewoner=4), **people(Ambtenaar=1)}
    ballots = {"bew0": {"a": 3}, "bew1": {"b": 1}, "amb0": {"b": 5}}
    groups = by_perspective(ballots, parts, GROUPS)
    assert set(groups) == {"Bewoner", OTHER}
    totals = {"a": 3, "b": 6}
    assert common_ground(totals, groups) == ranking(totals) == ["b", "a"]
    assert divided(totals, groups) == []


def test_other_never_counts_as_a_side() -> None:
    """A small group cannot make an item 'divided' (it would single people out)."""
    parts = {**people(Bewoner=3), **people(Ambtenaar=2)}
    ballots = {"bew0": {"a": 1}, "bew1": {"a": 1}, "bew2": {"a": 1},
               "amb0": {"b": 5}, "amb1": {"b": 5}}
    out = results.summary(ballots, parts, GROUPS)
    assert out["divided"] == []
    assert set(out["by_perspective"]) == {"Bewoner", OTHER}


def test_common_ground_ties_break_by_total_then_id() -> None:
    parts = people(Bewoner=3, Ambtenaar=3)
    # Both groups split their dots equally over x and y: equal shares, equal totals.
    ballots = {pid: {"x": 1, "y": 1} for pid in parts}
    out = results.summary(ballots, parts, GROUPS)
    assert out["common_ground"] == ["x", "y"]
    assert out["divided"] == []


def test_item_missing_in_a_group_scores_lowest() -> None:
    parts = people(Bewoner=3, Ambtenaar=3)
    ballots = {"bew0": {"a": 1, "b": 1}, "amb0": {"a": 1}, "amb1": {"c": 5}}
    out = results.summary(ballots, parts, GROUPS)
    assert out["common_ground"][0] == "a"


def test_divided_needs_a_real_share() -> None:
    """A single stray dot (below the minimum share) does not make an item divided."""
    parts = people(Bewoner=3, Ambtenaar=3)
    ballots = {"bew0": {"main": 5}, "bew1": {"main": 5}, "bew2": {"main": 4, "stray": 1},
               "amb0": {"main": 5}, "amb1": {"main": 5}, "amb2": {"main": 5}}
    out = results.summary(ballots, parts, GROUPS)
    assert "stray" not in out["divided"]
    assert out["divided"] == []


def test_the_worked_example_of_docs_results_md() -> None:
    """docs/results.md: 8 residents, 3 civil servants, 1 entrepreneur (a group of one)."""
    parts = {f"b{i}": {"perspective": "Bewoner"} for i in range(8)}
    parts |= {f"a{i}": {"perspective": "Ambtenaar"} for i in range(3)}
    parts |= {"o1": {"perspective": "Ondernemer"}}
    ballots = {f"b{i}": {"A": 3, "B": 1, "X": 1} for i in range(8)}
    ballots |= {f"a{i}": {"B": 2, "C": 3} for i in range(3)}
    ballots |= {"o1": {"C": 5}}
    s = results.summary(ballots, parts, ["Bewoner", "Ambtenaar", "Ondernemer"])
    assert s["totals"] == {"A": 24, "B": 14, "C": 14, "X": 8}
    assert s["by_perspective"] == {"Bewoner": {"A": 24, "B": 8, "X": 8},
                                   "Ambtenaar": {"B": 6, "C": 9}, "other": {"C": 5}}
    assert s["ranking"] == ["A", "B", "C", "X"]
    assert s["common_ground"] == ["B", "A", "C", "X"]
    assert s["divided"] == ["A", "C", "X"]

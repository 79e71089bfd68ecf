"""server/rules.py: phases, who may send which op, argument cleaning, settings."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from server import rules
from server.args import clean_args, clean_workshop
from server.errors import DomainError
from server.rules import DEFAULT_SETTINGS, OPS, may
from server.votes import check_vote
from server.workshop_settings import clean_settings

ROOT = Path(__file__).resolve().parents[2]

SETTINGS: dict[str, Any] = {**DEFAULT_SETTINGS, "perspectives": ["Bewoner", "Ambtenaar"]}

# The contract's op table (PROTOCOL.md), plus the documented extension set_lock.
CONTRACT_ROLES: dict[str, set[str]] = {
    "add_note": {"participant"},
    "edit_note": {"participant", "facilitator"},
    "delete_note": {"participant", "facilitator"},
    "set_profile": {"participant"},
    "vote": {"participant"},
    "set_phase": {"facilitator"},
    "timer": {"facilitator"},
    "moderate_note": {"facilitator"},
    "cluster": {"facilitator"},
    "uncluster": {"facilitator"},
    "rename_cluster": {"facilitator"},
    "delete_cluster": {"facilitator"},
    "update_settings": {"facilitator"},
    "set_lock": {"facilitator"},
    "remove_participant": {"facilitator"},
    "hide_participant_notes": {"facilitator"},
    "set_done": {"participant"},
    "react": {"participant"},
    # Version 1.1, Facilitation.
    "add_prompt": {"facilitator"},
    "edit_prompt": {"facilitator"},
    "merge_clusters": {"facilitator"},
    "sign_up": {"participant"},
    "add_paper_note": {"facilitator"},
    "approve_notes": {"facilitator"},
    # Version 1.1, a session plan.
    "set_activity": {"facilitator"},
    "add_activity": {"facilitator"},
    "edit_activity": {"facilitator"},
    "remove_activity": {"facilitator"},
    "move_activity": {"facilitator"},
    # Version 1.1, Sorting help.
    "suggest_themes": {"facilitator"},
    "apply_themes": {"facilitator"},
    "undo_themes": {"facilitator"},
    "similar_notes": {"participant"},
}

# One valid argument set per op, and what clean_args makes of it.
VALID: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "add_note": ({"prompt_id": "q1", "text": "  Meer bankjes  "},
                 {"prompt_id": "q1", "text": "Meer bankjes"}),
    "edit_note": ({"note_id": "n1", "text": "Nieuw"}, {"note_id": "n1", "text": "Nieuw"}),
    "delete_note": ({"note_id": "n1"}, {"note_id": "n1"}),
    "set_profile": ({"name": " Anna ", "perspective": "Bewoner"},
                    {"name": "Anna", "perspective": "Bewoner"}),
    "vote": ({"item_id": "c1", "delta": -1}, {"item_id": "c1", "delta": -1}),
    "set_phase": ({"phase": "vote"}, {"phase": "vote"}),
    "timer": ({"action": "start", "seconds": 300}, {"action": "start", "seconds": 300}),
    "moderate_note": ({"note_id": "n1", "hidden": True}, {"note_id": "n1", "hidden": True}),
    "cluster": ({"note_ids": ["n1", "n2", "n1"], "cluster_id": None, "title": "Groen"},
                {"note_ids": ["n1", "n2"], "cluster_id": None, "title": "Groen"}),
    "uncluster": ({"note_ids": ["n1"]}, {"note_ids": ["n1"]}),
    "rename_cluster": ({"cluster_id": "c1", "title": "Verkeer"},
                       {"cluster_id": "c1", "title": "Verkeer"}),
    "delete_cluster": ({"cluster_id": "c1"}, {"cluster_id": "c1"}),
    "update_settings": ({"anonymous": False}, {"anonymous": False}),
    "set_lock": ({"locked": True}, {"locked": True}),
    "remove_participant": ({"participant_id": "p1"}, {"participant_id": "p1"}),
    "hide_participant_notes": ({"participant_id": "p1", "hidden": True},
                               {"participant_id": "p1", "hidden": True}),
    "set_done": ({"done": True, "extra": 1}, {"done": True}),
    "react": ({"note_id": "n1", "emoji": "\u2764\ufe0f", "on": False},
              {"note_id": "n1", "emoji": "\u2764\ufe0f", "on": False}),
    "add_prompt": ({"text": "  Wat mist er?  "}, {"text": "Wat mist er?"}),
    "edit_prompt": ({"prompt_id": "q1", "text": "Wat is fijn?"},
                    {"prompt_id": "q1", "text": "Wat is fijn?"}),
    "merge_clusters": ({"cluster_id": "c1", "into_id": "c2"},
                       {"cluster_id": "c1", "into_id": "c2"}),
    "sign_up": ({"item_id": "c1", "on": True, "contact": " a@b.nl ", "consent": True},
                {"item_id": "c1", "on": True, "contact": "a@b.nl"}),
    "add_paper_note": ({"prompt_id": "q1", "text": " Van papier ", "perspective": "Bewoner"},
                       {"prompt_id": "q1", "text": "Van papier", "perspective": "Bewoner"}),
    "approve_notes": ({"note_ids": ["n1", "n2", "n1"]}, {"note_ids": ["n1", "n2"]}),
    "set_activity": ({"activity_id": "a2"}, {"activity_id": "a2"}),
    # An activity's own settings, never the session's (perspectives is one of those).
    "add_activity": ({"title": " Pauze ", "prompts": [" Koffie? "], "after": None,
                      "settings": {"timer_seconds": 600, "perspectives": ["X"]}},
                     {"title": "Pauze", "prompts": ["Koffie?"], "after": None,
                      "settings": {"timer_seconds": 600}}),
    "edit_activity": ({"activity_id": "a2", "title": "Tot slot", "prompts": ["Wat nu?"]},
                      {"activity_id": "a2", "title": "Tot slot", "prompts": ["Wat nu?"]}),
    "remove_activity": ({"activity_id": "a2"}, {"activity_id": "a2"}),
    "move_activity": ({"activity_id": "a2", "to": 0}, {"activity_id": "a2", "to": 0}),
    "suggest_themes": ({"prompt_id": None}, {"prompt_id": None}),
    "apply_themes": ({"themes": [{"title": " Groen ", "note_ids": ["n1", "n2", "n1"]},
                                 {"title": "x", "note_ids": ["n3"], "cluster_id": "c1"}]},
                     {"themes": [{"title": "Groen", "note_ids": ["n1", "n2"], "cluster_id": None},
                                 {"title": "x", "note_ids": ["n3"], "cluster_id": "c1"}]}),
    "undo_themes": ({"undo_id": "u1"}, {"undo_id": "u1"}),
    "similar_notes": ({"prompt_id": "q1", "text": " Meer bomen "},
                      {"prompt_id": "q1", "text": "Meer bomen"}),
}

# Required fields per op, with a value of the wrong type for each.
REQUIRED: list[tuple[str, str, Any]] = [
    ("add_note", "prompt_id", 7),
    ("add_note", "text", 7),
    ("edit_note", "note_id", ["n1"]),
    ("edit_note", "text", {"t": 1}),
    ("delete_note", "note_id", 1.5),
    ("vote", "item_id", 3),
    ("vote", "delta", "1"),
    ("set_phase", "phase", 2),
    ("timer", "action", True),
    ("timer", "seconds", "300"),
    ("moderate_note", "note_id", None),
    ("moderate_note", "hidden", "yes"),
    ("cluster", "note_ids", "n1"),
    ("uncluster", "note_ids", {"n1": 1}),
    ("rename_cluster", "cluster_id", 5),
    ("rename_cluster", "title", 5),
    ("delete_cluster", "cluster_id", False),
    ("set_lock", "locked", 1),
    ("remove_participant", "participant_id", 7),
    ("hide_participant_notes", "participant_id", None),
    ("hide_participant_notes", "hidden", "yes"),
    ("set_done", "done", "true"),
    ("react", "note_id", 1),
    ("react", "on", 1),
    ("add_prompt", "text", 7),
    ("edit_prompt", "prompt_id", 7),
    ("edit_prompt", "text", None),
    ("add_paper_note", "prompt_id", 7),
    ("add_paper_note", "text", 7),
    ("approve_notes", "note_ids", "n1"),
    ("set_activity", "activity_id", 2),
    ("remove_activity", "activity_id", None),
    ("edit_activity", "activity_id", ["a1"]),
    ("move_activity", "activity_id", 1),
    ("move_activity", "to", "0"),
    ("apply_themes", "themes", {"title": "x"}),
    ("undo_themes", "undo_id", 7),
    ("similar_notes", "text", 7),
]


def test_a_note_may_name_its_activity() -> None:
    args = {"prompt_id": "q1", "text": "Idee", "activity_id": "a2"}
    assert clean_args("add_note", args, SETTINGS)["activity_id"] == "a2"
    assert "activity_id" not in clean_args("add_note", {**args, "activity_id": None}, SETTINGS)
    assert code_of("add_note", {**args, "activity_id": 7}) == "bad_args"


def code_of(op: str, args: Any, settings: dict[str, Any] | None = None) -> str:
    with pytest.raises(DomainError) as info:
        clean_args(op, args, settings or SETTINGS)
    return info.value.code


# ------------------------------------------------------------------ phases, roles
def test_phases_in_workshop_order() -> None:
    """The server's phases, in order, are the screens' (static/js/protocol.js) and the
    documented ones (docs/protocol.md, `set_phase`): the stepper walks them in this order."""
    js = (ROOT / "static/js/protocol.js").read_text("utf-8")
    found = re.search(r"export const PHASES = Object\.freeze\(\[([^\]]*)\]\)", js)
    assert found, "PHASES in static/js/protocol.js"
    assert tuple(re.findall(r'"(\w+)"', found.group(1))) == rules.PHASES
    doc = (ROOT / "docs/protocol.md").read_text("utf-8")
    row = next(line for line in doc.splitlines() if line.startswith("| `set_phase`"))
    listed = row.split("`phase`:", 1)[1].split("|", 1)[0]
    assert tuple(re.findall(r"`(\w+)`", listed)) == rules.PHASES, row


def test_every_contract_op_is_known() -> None:
    assert set(OPS) == set(CONTRACT_ROLES)


@pytest.mark.parametrize("op", sorted(CONTRACT_ROLES))
@pytest.mark.parametrize("role", rules.ROLES)
def test_may_follows_the_contract(role: str, op: str) -> None:
    assert may(role, op) is (role in CONTRACT_ROLES[op])


@pytest.mark.parametrize("role", [*rules.ROLES, "admin", ""])
def test_unknown_op_or_role_may_nothing(role: str) -> None:
    assert not may(role, "drop_tables")
    if role not in rules.ROLES:
        assert not any(may(role, op) for op in OPS)


def test_projector_may_send_no_op() -> None:
    assert not [op for op in OPS if may("projector", op)]


# --------------------------------------------------------------------- clean_args
@pytest.mark.parametrize("op", sorted(VALID))
def test_valid_args_are_cleaned(op: str) -> None:
    raw, cleaned = VALID[op]
    assert clean_args(op, raw, SETTINGS) == cleaned


@pytest.mark.parametrize("op", sorted(VALID))
@pytest.mark.parametrize("args", [None, [], "x", 3])
def test_args_not_an_object(op: str, args: Any) -> None:
    assert code_of(op, args) == "bad_args"


@pytest.mark.parametrize(("op", "field", "wrong"), REQUIRED)
def test_missing_arg(op: str, field: str, wrong: Any) -> None:
    args = dict(VALID[op][0])
    args.pop(field, None)
    assert code_of(op, args) == "bad_args"


@pytest.mark.parametrize(("op", "field", "wrong"), REQUIRED)
def test_wrong_typed_arg(op: str, field: str, wrong: Any) -> None:
    args = {**VALID[op][0], field: wrong}
    with pytest.raises(DomainError) as info:
        clean_args(op, args, SETTINGS)
    assert info.value.code == "bad_args"
    assert info.value.params.get("field") in (field, "note")


def test_unknown_op() -> None:
    assert code_of("drop_tables", {}) == "unknown_op"


@pytest.mark.parametrize("field", ["prompt_id", "note_id", "item_id", "cluster_id"])
def test_ids_empty_or_too_long(field: str) -> None:
    op = {"prompt_id": "add_note", "note_id": "delete_note", "item_id": "vote",
          "cluster_id": "delete_cluster"}[field]
    base = VALID[op][0]
    assert code_of(op, {**base, field: ""}) == "bad_args"
    assert code_of(op, {**base, field: "x" * 65}) == "bad_args"
    assert clean_args(op, {**base, field: "x" * 64}, SETTINGS)[field] == "x" * 64


def test_note_ids_list_limits() -> None:
    assert code_of("cluster", {"note_ids": []}) == "bad_args"
    assert code_of("cluster", {"note_ids": ["n1", 2]}) == "bad_args"
    assert code_of("uncluster", {"note_ids": [f"n{i}" for i in range(501)]}) == "bad_args"
    assert len(clean_args("uncluster", {"note_ids": [f"n{i}" for i in range(500)]},
                          SETTINGS)["note_ids"]) == 500


# ----------------------------------------------------------------------- notes
@pytest.mark.parametrize("op", ["add_note", "edit_note"])
def test_note_of_ten_thousand_characters(op: str) -> None:
    args = {**VALID[op][0], "text": "a" * 10_000}
    with pytest.raises(DomainError) as info:
        clean_args(op, args, SETTINGS)
    assert info.value.code == "note_too_long"
    assert info.value.params == {"max": SETTINGS["max_note_length"]}


def test_note_length_limit_is_exact_and_follows_the_setting() -> None:
    limit = SETTINGS["max_note_length"]
    ok = clean_args("add_note", {"prompt_id": "q1", "text": "é" * limit}, SETTINGS)
    assert len(ok["text"]) == limit
    assert code_of("add_note", {"prompt_id": "q1", "text": "é" * (limit + 1)}) == "note_too_long"
    wide = {**SETTINGS, "max_note_length": 1000}
    assert len(clean_args("add_note", {"prompt_id": "q1", "text": "a" * 1000}, wide)["text"]) \
        == 1000
    assert code_of("add_note", {"prompt_id": "q1", "text": "a" * 1001}, wide) == "note_too_long"


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\x00\x07", " \u200b"[:1]])
@pytest.mark.parametrize("op", ["add_note", "edit_note"])
def test_empty_note(op: str, text: str) -> None:
    assert code_of(op, {**VALID[op][0], "text": text}) == "note_empty"


def test_note_text_is_normalised() -> None:
    raw = "  e\u0301n\x00 regel\x1b\nnog een\tregel \x7f "
    text = clean_args("add_note", {"prompt_id": "q1", "text": raw}, SETTINGS)["text"]
    assert text == "\u00e9n regel\nnog een\tregel"


# Text that shows nothing on a screen (docs/security.md, "Text"): each is an empty note.
INVISIBLE = {
    "combining marks": "\u0301\u0308\u20dd",
    "hangul fillers": "\u3164\u115f\u1160\uffa0",
    "braille blank": "\u2800\u2800",
    "tag characters": "\U000e0041\U000e0042\U000e007f",
    "zero-width and BOM": "\u200b\u2060\ufeff\u200d\u200c",
    "separators": "\u2028\u2029\u3000\u00a0",
    "direction marks": "\u200e\u200f\u061c",
    "mixed": " \u3164\u0301\u2800\U000e0020\u200b ",
}


@pytest.mark.parametrize("kind", sorted(INVISIBLE))
@pytest.mark.parametrize("op", ["add_note", "edit_note"])
def test_a_note_of_invisible_characters_is_empty(op: str, kind: str) -> None:
    assert code_of(op, {**VALID[op][0], "text": INVISIBLE[kind]}) == "note_empty"


@pytest.mark.parametrize("kind", sorted(INVISIBLE))
def test_invisible_names_and_titles_are_empty(kind: str) -> None:
    assert clean_args("set_profile", {"name": INVISIBLE[kind]}, SETTINGS)["name"] is None
    with pytest.raises(DomainError) as err:
        clean_workshop({"title": INVISIBLE[kind], "prompts": ["q"]})
    assert err.value.code == "title_required"
    args = {"cluster_id": "c1", "title": INVISIBLE[kind]}
    assert clean_args("rename_cluster", args, SETTINGS)["title"] == ""


def test_hidden_formatting_is_removed_from_a_note() -> None:
    smuggled = "".join(chr(0xE0000 + ord(c)) for c in "ignore all previous")
    raw = f"Meer\u200b groen{smuggled}\ufeff in de\u2060 wijk\U000e007f\u00ad"
    text = clean_args("add_note", {"prompt_id": "q1", "text": raw}, SETTINGS)["text"]
    assert text == "Meer groen in de wijk"


@pytest.mark.parametrize("text", [
    "\U0001f469\u200d\U0001f4bb",  # woman technologist: ZWJ sequence
    "\u2764\ufe0f\u200d\U0001f525",  # heart on fire: variation selector, then ZWJ
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with ZWNJ
    "\u05e9\u05dc\u05d5\u05dd 123\u200f!",  # Hebrew with a direction mark
    "\u0915\u094d\u200d\u0937",  # Devanagari half form: ZWJ after a virama
    "e\u0301te\u0301",  # marks on a letter stay (NFC joins these)
])
def test_writing_keeps_the_formatting_it_needs(text: str) -> None:
    expected = unicodedata.normalize("NFC", text)
    assert clean_args("add_note", {"prompt_id": "q1", "text": text}, SETTINGS)["text"] == expected


def test_joiners_and_tags_that_join_nothing_go() -> None:
    raw = "\u200dja\u200d\u200d nee\u200c \U0001f3f4\U000e0041\U000e0042 vlag"
    text = clean_args("add_note", {"prompt_id": "q1", "text": raw}, SETTINGS)["text"]
    assert text == "ja nee \U0001f3f4 vlag"


def test_note_length_counts_after_cleaning() -> None:
    limit = SETTINGS["max_note_length"]
    padded = " " * 50 + "a" * limit + "\x00" * 50 + " " * 50
    assert clean_args("add_note", {"prompt_id": "q1", "text": padded}, SETTINGS)["text"] == \
        "a" * limit


# --------------------------------------------------------------- other op args
def test_set_profile() -> None:
    assert clean_args("set_profile", {"name": None}, SETTINGS) == {"name": None}
    assert clean_args("set_profile", {"name": "   "}, SETTINGS) == {"name": None}
    assert clean_args("set_profile", {"perspective": None}, SETTINGS) == {"perspective": None}
    assert code_of("set_profile", {}) == "bad_args"
    assert code_of("set_profile", {"perspective": "Koning"}) == "bad_perspective"
    assert code_of("set_profile", {"perspective": "bewoner"}) == "bad_perspective"
    assert code_of("set_profile", {"name": "x" * (rules.MAX_NAME + 1)}) == "name_too_long"
    assert code_of("set_profile", {"name": 12}) == "bad_args"


@pytest.mark.parametrize("delta", [0, 2, -2, True, False, "1", None, 1.5])
def test_vote_delta_is_plus_or_minus_one(delta: Any) -> None:
    assert code_of("vote", {"item_id": "c1", "delta": delta}) == "bad_args"


@pytest.mark.parametrize("phase", rules.PHASES)
def test_set_phase_each_phase(phase: str) -> None:
    assert clean_args("set_phase", {"phase": phase}, SETTINGS) == {"phase": phase}


@pytest.mark.parametrize("phase", ["", "Collect", "voting", None])
def test_set_phase_unknown(phase: Any) -> None:
    assert code_of("set_phase", {"phase": phase}) == "bad_args"


@pytest.mark.parametrize("action", ["pause", "resume", "reset"])
def test_timer_actions_without_seconds(action: str) -> None:
    assert clean_args("timer", {"action": action, "seconds": 5}, SETTINGS) == {"action": action}


@pytest.mark.parametrize("seconds", [0, -1, rules.MAX_TIMER_SECONDS + 1, True, 1.5, None])
def test_timer_seconds_out_of_range(seconds: Any) -> None:
    assert code_of("timer", {"action": "start", "seconds": seconds}) == "bad_args"


def test_timer_seconds_whole_float_accepted() -> None:
    assert clean_args("timer", {"action": "start", "seconds": 60.0}, SETTINGS)["seconds"] == 60


def test_cluster_ids_and_titles() -> None:
    out = clean_args("cluster", {"note_ids": ["n1"], "cluster_id": "c9"}, SETTINGS)
    assert out == {"note_ids": ["n1"], "cluster_id": "c9"}
    assert code_of("cluster", {"note_ids": ["n1"], "cluster_id": 9}) == "bad_args"
    assert code_of("cluster", {"note_ids": ["n1"], "title": 9}) == "bad_args"
    assert code_of("rename_cluster", {"cluster_id": "c1",
                                      "title": "t" * (rules.MAX_CLUSTER_TITLE + 1)}) \
        == "title_too_long"
    assert clean_args("rename_cluster", {"cluster_id": "c1", "title": ""}, SETTINGS)["title"] \
        == ""


# ------------------------------------------------------------------- settings
@pytest.mark.parametrize(("raw", "cleaned"), [
    ({}, {}),
    ({"anonymous": False, "show_live_votes": True}, {"anonymous": False,
                                                     "show_live_votes": True}),
    ({"votes_per_participant": 10, "max_votes_per_item": 10},
     {"votes_per_participant": 10, "max_votes_per_item": 10}),
    ({"votes_per_participant": 7.0}, {"votes_per_participant": 7}),
    ({"max_note_length": 10}, {"max_note_length": 10}),
    ({"max_note_length": 1000}, {"max_note_length": 1000}),
    ({"language": "en"}, {"language": "en"}),
    ({"perspectives": [" Bewoner ", "Ondernemer"]}, {"perspectives": ["Bewoner", "Ondernemer"]}),
    ({"perspectives": []}, {"perspectives": []}),
])
def test_settings_valid(raw: dict[str, Any], cleaned: dict[str, Any]) -> None:
    assert clean_settings(raw) == cleaned
    assert clean_args("update_settings", raw, DEFAULT_SETTINGS) == cleaned


@pytest.mark.parametrize("raw", [
    {"colour": "red"},
    {"anonymous": 1},
    {"anonymous": "true"},
    {"private_writing": None},
    {"votes_per_participant": 0},
    {"votes_per_participant": 101},
    {"votes_per_participant": "5"},
    {"votes_per_participant": True},
    {"votes_per_participant": 2.5},
    {"max_votes_per_item": 0},
    {"max_votes_per_item": 6},  # above the default budget of 5
    {"max_note_length": 9},
    {"max_note_length": 1001},
    {"language": "de"},
    {"language": None},
    {"perspectives": "Bewoner"},
    {"perspectives": ["A", "A"]},
    {"perspectives": ["other"]},
    {"perspectives": ["Other"]},
    {"perspectives": [""]},
    {"perspectives": [3]},
    {"perspectives": ["x" * (rules.MAX_PERSPECTIVE + 1)]},
    {"perspectives": [f"g{i}" for i in range(rules.MAX_PERSPECTIVES + 1)]},
])
def test_settings_invalid(raw: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as info:
        clean_settings(raw)
    assert info.value.code == "bad_setting"
    assert code_of("update_settings", raw, DEFAULT_SETTINGS) == "bad_setting"


def test_settings_not_an_object() -> None:
    with pytest.raises(DomainError) as info:
        clean_settings(["anonymous"])
    assert info.value.code == "bad_setting"


def test_lower_budget_pulls_the_item_limit_down() -> None:
    current = {**DEFAULT_SETTINGS, "votes_per_participant": 8, "max_votes_per_item": 6}
    assert clean_settings({"votes_per_participant": 4}, current) == {
        "votes_per_participant": 4, "max_votes_per_item": 4}
    assert clean_settings({"votes_per_participant": 7}, current) == {"votes_per_participant": 7}
    with pytest.raises(DomainError):
        clean_settings({"votes_per_participant": 4, "max_votes_per_item": 5}, current)


def test_settings_item_limit_against_current_budget() -> None:
    current = {**DEFAULT_SETTINGS, "votes_per_participant": 10}
    assert clean_settings({"max_votes_per_item": 10}, current) == {"max_votes_per_item": 10}


# ------------------------------------------------------------------- workshops
def test_clean_workshop_defaults() -> None:
    out = clean_workshop({"title": " Wijkavond ",
                          "prompts": ["Wat gaat goed?", " Wat kan beter? "]})
    v1 = {"title": "Wijkavond", "prompts": ["Wat gaat goed?", "Wat kan beter?"],
          "settings": dict(DEFAULT_SETTINGS)}
    # A version 1 body is a plan of one activity (issue 10).
    assert out == {**v1, "activities": [v1]}


def test_clean_workshop_settings_merged() -> None:
    out = clean_workshop({"title": "t", "prompts": ["p"], "settings": {"anonymous": False}})
    assert out["settings"] == {**DEFAULT_SETTINGS, "anonymous": False}


@pytest.mark.parametrize(("body", "code"), [
    ([], "malformed"),
    ({"prompts": ["p"]}, "bad_args"),
    ({"title": "  ", "prompts": ["p"]}, "title_required"),
    ({"title": "x" * (rules.MAX_TITLE + 1), "prompts": ["p"]}, "title_too_long"),
    ({"title": "t"}, "prompts_required"),
    ({"title": "t", "prompts": []}, "prompts_required"),
    ({"title": "t", "prompts": ["p"] * 7}, "prompts_required"),
    ({"title": "t", "prompts": ["p", " "]}, "prompts_required"),
    ({"title": "t", "prompts": "p"}, "prompts_required"),
    ({"title": "t", "prompts": ["p"], "settings": {"language": "fr"}}, "bad_setting"),
])
def test_clean_workshop_invalid(body: Any, code: str) -> None:
    with pytest.raises(DomainError) as info:
        clean_workshop(body)
    assert info.value.code == code


def test_six_prompts_allowed() -> None:
    assert len(clean_workshop({"title": "t", "prompts": [f"p{i}" for i in range(6)]})["prompts"]) \
        == 6


# ------------------------------------------------------------------ check_vote
def test_check_vote_limits() -> None:
    s = {"votes_per_participant": 3, "max_votes_per_item": 2}
    b = check_vote({}, "a", 1, s)
    b = check_vote(b, "a", 1, s)
    assert b == {"a": 2}
    with pytest.raises(DomainError) as info:
        check_vote(b, "a", 1, s)
    assert info.value.code == "item_full"
    b = check_vote(b, "b", 1, s)
    with pytest.raises(DomainError) as info:
        check_vote(b, "c", 1, s)
    assert info.value.code == "no_votes_left"
    with pytest.raises(DomainError) as info:
        check_vote(b, "c", -1, s)
    assert info.value.code == "no_vote_to_remove"
    assert check_vote(b, "b", -1, s) == {"a": 2}


# --------------------------------------------------------------------- questions
@pytest.mark.parametrize("op", ["add_prompt", "edit_prompt"])
def test_a_question_is_not_empty_nor_too_long(op: str) -> None:
    base = VALID[op][0]
    for text in ("", "   ", *INVISIBLE.values()):
        assert code_of(op, {**base, "text": text}) == "prompt_empty", repr(text)
    with pytest.raises(DomainError) as info:
        clean_args(op, {**base, "text": "é" * (rules.MAX_PROMPT + 1)}, SETTINGS)
    assert info.value.code == "prompt_too_long"
    assert info.value.params == {"max": rules.MAX_PROMPT}
    exact = clean_args(op, {**base, "text": "é" * rules.MAX_PROMPT}, SETTINGS)
    assert exact["text"] == "é" * rules.MAX_PROMPT


def test_apply_themes_refuses_a_note_in_two_themes() -> None:
    args = {"themes": [{"title": "a", "note_ids": ["n1", "n2"]},
                       {"title": "b", "note_ids": ["n2"]}]}
    assert code_of("apply_themes", args) == "bad_args"
    assert code_of("apply_themes", {"themes": []}) == "bad_args"
    assert code_of("apply_themes", {"themes": [{"title": "a", "note_ids": []}]}) == "bad_args"
    assert code_of("apply_themes", {"themes": [{"title": "a" * 81, "note_ids": ["n1"]}]}) == (
        "title_too_long")
    assert code_of("similar_notes", {"prompt_id": "q1", "text": " \u200b "}) == "note_empty"

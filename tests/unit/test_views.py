"""server/views.py: what each role sees, from a room built by hand."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from server.events import Event
from server.room import apply_event
from server.rules import DEFAULT_SETTINGS
from server.views import (
    FACILITATOR,
    PARTICIPANT_COUNT,
    PARTICIPANTS,
    PROJECTOR,
    VOTES_SUMMARY,
    Viewer,
    public_items,
    recent_joins,
    view_event,
    view_state,
    view_votes,
)

P1, P2, P3 = "p-anna", "p-bram", "p-cor"


def note(nid: str, author: str, *, hidden: bool = False, cluster: str | None = None,
         at: int = 0) -> dict[str, Any]:
    return {"id": nid, "prompt_id": "q1", "text": f"tekst {nid}", "cluster_id": cluster,
            "hidden": hidden, "created_at": 1_000 + at, "author_id": author}


def make_room(phase: str = "collect", **settings: Any) -> dict[str, Any]:
    """Three participants; n1 (Anna), n2 (Bram, hidden), n3 (Cor, in cluster c1), n4 (Anna)."""
    return {
        "workshop": {
            "id": "w1", "code": "123456", "title": "Wijk", "phase": phase, "locked": False,
            "timer": {"running": False, "ends_at": None, "remaining_ms": None},
            "settings": {**DEFAULT_SETTINGS, "perspectives": ["Bewoner"], **settings},
            "created_at": 1, "updated_at": 1,
        },
        "prompts": [{"id": "q1", "text": "Wat kan beter?"}],
        "notes": {
            "n1": note("n1", P1, at=1),
            "n2": note("n2", P2, hidden=True, at=2),
            "n3": note("n3", P3, cluster="c1", at=3),
            "n4": note("n4", P1, at=4),
        },
        "clusters": {"c1": {"id": "c1", "title": "Groen", "order": 1}},
        "participants": {
            P1: {"participant_id": P1, "name": "Anna", "perspective": "Bewoner", "joined_at": 1},
            P2: {"participant_id": P2, "name": "Bram", "perspective": None, "joined_at": 2},
            P3: {"participant_id": P3, "name": None, "perspective": None, "joined_at": 3},
        },
        "ballots": {P1: {"c1": 2, "n1": 1}, P2: {"c1": 1}, P3: {"n2": 1}},
        "totals": {"c1": 3, "n1": 1, "n2": 1},
        "online": 2,
        "seq": 40,
    }


def ids(state: dict[str, Any]) -> list[str]:
    return [n["id"] for n in state["notes"]]


def by_id(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in state["notes"]}


VIEWERS = [FACILITATOR, PROJECTOR, Viewer("participant", P1), Viewer("participant", P2)]


# ------------------------------------------------------------------------ notes
def test_facilitator_sees_every_note_with_its_author() -> None:
    state = view_state(make_room(), FACILITATOR)
    assert ids(state) == ["n1", "n2", "n3", "n4"]
    assert by_id(state)["n2"]["hidden"] is True
    assert by_id(state)["n2"]["author"] == {"participant_id": P2, "name": "Bram",
                                            "perspective": None}
    assert [p["participant_id"] for p in state["participants"]["list"]] == [P1, P2, P3]


def test_projector_sees_no_hidden_note_and_no_author_when_anonymous() -> None:
    state = view_state(make_room(), PROJECTOR)
    assert ids(state) == ["n1", "n3", "n4"]
    assert all(n["author"] is None for n in state["notes"])
    assert "list" not in state["participants"]
    assert "me" not in state


def test_authors_shown_when_not_anonymous_but_never_hidden_notes() -> None:
    room = make_room(anonymous=False)
    for viewer in (PROJECTOR, Viewer("participant", P3)):
        state = view_state(room, viewer)
        assert "n2" not in ids(state)
        assert by_id(state)["n1"]["author"]["name"] == "Anna"


def test_participant_sees_own_notes_with_author() -> None:
    state = view_state(make_room(), Viewer("participant", P1))
    assert ids(state) == ["n1", "n3", "n4"]
    notes = by_id(state)
    assert notes["n1"]["author"]["participant_id"] == P1
    assert notes["n4"]["author"]["participant_id"] == P1
    assert notes["n3"]["author"] is None
    assert state["me"] == {"participant_id": P1, "name": "Anna", "perspective": "Bewoner",
                           "done": False}


def test_participant_keeps_seeing_its_own_hidden_note() -> None:
    state = view_state(make_room(), Viewer("participant", P2))
    assert ids(state) == ["n1", "n2", "n3", "n4"]
    assert by_id(state)["n2"]["hidden"] is True
    assert by_id(state)["n2"]["author"]["participant_id"] == P2
    # ... but nobody else does.
    assert "n2" not in ids(view_state(make_room(), Viewer("participant", P1)))


def test_private_writing_in_collect_shows_only_own_notes() -> None:
    room = make_room("collect", private_writing=True)
    assert ids(view_state(room, Viewer("participant", P1))) == ["n1", "n4"]
    assert ids(view_state(room, Viewer("participant", P3))) == ["n3"]
    assert ids(view_state(room, PARTICIPANTS)) == []
    # The wall and the facilitator see all (visible) notes while collecting.
    assert ids(view_state(room, PROJECTOR)) == ["n1", "n3", "n4"]
    assert ids(view_state(room, FACILITATOR)) == ["n1", "n2", "n3", "n4"]


@pytest.mark.parametrize("phase", ["cluster", "vote", "results", "closed"])
def test_private_writing_ends_after_collect(phase: str) -> None:
    room = make_room(phase, private_writing=True)
    assert ids(view_state(room, Viewer("participant", P3))) == ["n1", "n3", "n4"]


def test_provenance_guards_small_groups() -> None:
    room = make_room(show_provenance=True)
    # Anna is the only "Bewoner": fewer than 3, so the label says "other".
    assert by_id(view_state(room, PROJECTOR))["n1"]["perspective"] == "other"
    assert by_id(view_state(room, PROJECTOR))["n3"]["perspective"] is None
    for pid in (P2, P3):
        room["participants"][pid]["perspective"] = "Bewoner"
    assert by_id(view_state(room, PROJECTOR))["n1"]["perspective"] == "Bewoner"
    assert "perspective" not in by_id(view_state(make_room(), PROJECTOR))["n1"]


# ------------------------------------------------------------------------ votes
def test_public_items_are_clusters_and_visible_loose_notes() -> None:
    assert public_items(make_room()) == {"c1", "n1", "n4"}


@pytest.mark.parametrize("phase", ["collect", "cluster", "vote"])
def test_vote_totals_hidden_from_wall_and_phones_before_results(phase: str) -> None:
    room = make_room(phase)
    for viewer in (PROJECTOR, Viewer("participant", P1), PARTICIPANTS):
        votes = view_state(room, viewer)["votes"]
        assert votes["totals"] == {}
        assert votes["ranking"] == votes["common_ground"] == votes["divided"] == []
        assert votes["by_perspective"] == {}
        assert votes["voters"] == 3  # progress without totals


@pytest.mark.parametrize("phase", ["collect", "cluster", "vote", "results", "closed"])
def test_facilitator_always_sees_all_totals(phase: str) -> None:
    votes = view_state(make_room(phase), FACILITATOR)["votes"]
    # The hidden note n2 is no item for anyone (a dot left on it from before hiding gave
    # dots back is not counted): nothing ranks it.
    assert votes["totals"] == {"c1": 3, "n1": 1}
    assert votes["ranking"] == ["c1", "n1"]


@pytest.mark.parametrize("phase", ["results", "closed"])
def test_totals_visible_in_results(phase: str) -> None:
    for viewer in (PROJECTOR, Viewer("participant", P3)):
        votes = view_state(make_room(phase), viewer)["votes"]
        # The hidden note n2 is no public item: its dot is not shown.
        assert votes["totals"] == {"c1": 3, "n1": 1}
        assert votes["ranking"] == ["c1", "n1"]
        assert votes["voters"] == 3


def test_show_live_votes_reveals_totals_in_the_vote_phase_only() -> None:
    live = view_state(make_room("vote", show_live_votes=True), PROJECTOR)["votes"]
    assert live["totals"] == {"c1": 3, "n1": 1}
    early = view_state(make_room("cluster", show_live_votes=True), PROJECTOR)["votes"]
    assert early["totals"] == {}


def test_mine_is_own_ballot_only() -> None:
    room = make_room("vote")
    assert view_state(room, Viewer("participant", P1))["votes"]["mine"] == {"c1": 2, "n1": 1}
    assert view_state(room, Viewer("participant", P2))["votes"]["mine"] == {"c1": 1}
    assert view_state(room, Viewer("participant", "p-new"))["votes"]["mine"] == {}
    assert view_state(room, PROJECTOR)["votes"]["mine"] == {}
    assert view_state(room, FACILITATOR)["votes"]["mine"] == {}


def test_view_state_does_not_change_the_room() -> None:
    room = make_room("results", show_provenance=True)
    before = copy.deepcopy(room)
    for viewer in VIEWERS:
        view_state(room, viewer)
    assert room == before


# ----------------------------------------------------------------------- events
def ev(kind: str, data: dict[str, Any], seq: int = 41, actor: str = "") -> Event:
    return Event(seq, kind, actor, data)


def test_hiding_a_note_removes_it_from_the_wall() -> None:
    room = make_room()
    room["notes"]["n1"]["hidden"] = True
    e = ev("note_moderated", {"note": room["notes"]["n1"]})
    # n1 has a dot: the results without it come along (as hidden totals while collecting).
    wall = view_event(room, e, PROJECTOR, {})
    assert wall == {"note_id": "n1", "hidden": True, "removed_items": [],
                    "votes": view_votes(room, PROJECTOR)}
    assert view_event(room, e, Viewer("participant", P3), {}) == {
        "note_id": "n1", "hidden": True, "removed_items": [],
        "votes": view_votes(room, Viewer("participant", P3))}
    room["workshop"]["phase"] = "results"
    assert "n1" not in view_event(room, e, PROJECTOR, {})["votes"]["totals"]
    room["workshop"]["phase"] = "collect"
    fac = view_event(room, e, FACILITATOR, {})
    assert fac["note"]["hidden"] is True and fac["note"]["author"]["participant_id"] == P1
    own = view_event(room, e, Viewer("participant", P1), {})
    assert own["note"]["hidden"] is True


def test_note_added_in_private_writing_reaches_only_author_and_staff() -> None:
    room = make_room(private_writing=True)
    e = ev("note_added", {"note": room["notes"]["n1"]})
    assert view_event(room, e, PARTICIPANTS, {}) is None
    assert view_event(room, e, Viewer("participant", P3), {}) is None
    assert view_event(room, e, Viewer("participant", P1), {})["note"]["author"] is not None
    assert view_event(room, e, PROJECTOR, {})["note"]["author"] is None
    assert view_event(room, e, FACILITATOR, {})["note"]["author"] is not None


def test_hidden_note_edit_is_not_sent_to_others() -> None:
    room = make_room()
    e = ev("note_edited", {"note": room["notes"]["n2"]})
    assert view_event(room, e, PROJECTOR, {}) is None
    assert view_event(room, e, PARTICIPANTS, {}) is None
    assert view_event(room, e, Viewer("participant", P2), {}) is not None


def test_votes_changed_per_viewer() -> None:
    room = make_room("vote")
    data = {"participant_id": P1, "item_id": "c1", "delta": 1, "mine": {"c1": 2, "n1": 1},
            "total": 3, "voters": 3}
    e = ev("votes_changed", data, actor=P1)
    own = view_event(room, e, Viewer("participant", P1), {})
    assert own == {"item_id": "c1", "delta": 1, "mine": {"c1": 2, "n1": 1}, "voters": 3}
    # Other phones hear of it only as progress (voters), coalesced and rate-bounded.
    assert view_event(room, e, Viewer("participant", P2), {}) is VOTES_SUMMARY
    assert view_votes(room, PARTICIPANTS)["totals"] == {}
    assert view_event(room, e, PARTICIPANTS, {}) is VOTES_SUMMARY
    assert view_event(room, e, PROJECTOR, {}) is VOTES_SUMMARY
    assert view_event(room, e, FACILITATOR, {}) is VOTES_SUMMARY
    live = make_room("vote", show_live_votes=True)
    assert view_event(live, e, PARTICIPANTS, {}) is VOTES_SUMMARY
    own_live = view_event(live, e, Viewer("participant", P1), {})
    assert own_live["mine"] == {"c1": 2, "n1": 1}
    assert own_live["totals"] == {"c1": 3, "n1": 1}


def test_participant_changed_private_details_only_to_staff_and_self() -> None:
    room = make_room()
    p = dict(room["participants"][P1])
    e = ev("participant_changed", {"participant": p, "count": 3})
    assert view_event(room, e, PROJECTOR, {}) == {"count": 3}
    # Another phone sees only the count: a marker, sent once per batch (filled with the
    # room's count then; see tests/unit/test_fanout.py).
    assert view_event(room, e, Viewer("participant", P2), {}) is PARTICIPANT_COUNT
    assert view_event(room, e, PARTICIPANTS, {}) is PARTICIPANT_COUNT
    assert view_event(room, e, Viewer("participant", P1), {})["participant"] == p
    named = make_room(anonymous=False)
    assert view_event(named, e, PARTICIPANTS, {})["participant"]["name"] == "Anna"
    # Staff see the name, and the group as everyone may: Anna is the only "Bewoner".
    assert view_event(room, e, FACILITATOR, {})["participant"] == {**p, "perspective": "other"}


def test_small_groups_are_guarded_even_for_staff() -> None:
    room = make_room(anonymous=False)
    fac = view_state(room, FACILITATOR)
    listed = {x["participant_id"]: x["perspective"] for x in fac["participants"]["list"]}
    assert listed == {P1: "other", P2: None, P3: None}
    assert by_id(fac)["n1"]["author"]["perspective"] == "other"
    assert by_id(view_state(room, PROJECTOR))["n1"]["author"]["perspective"] == "other"
    # Anna sees her own choice on her own notes.
    own = view_state(room, Viewer("participant", P1))
    assert by_id(own)["n1"]["author"]["perspective"] == "Bewoner"
    assert own["me"]["perspective"] == "Bewoner"
    for pid in (P2, P3):
        room["participants"][pid]["perspective"] = "Bewoner"
    assert by_id(view_state(room, PROJECTOR))["n1"]["author"]["perspective"] == "Bewoner"


def test_phase_change_hides_totals_until_results() -> None:
    room = make_room("vote")
    e = ev("phase_changed", {"phase": "vote", "previous": "cluster"})
    assert view_event(room, e, PROJECTOR, {})["votes"]["totals"] == {}
    assert view_event(room, e, FACILITATOR, {})["votes"]["totals"] == {"c1": 3, "n1": 1}
    room["workshop"]["phase"] = "results"
    e = ev("phase_changed", {"phase": "results", "previous": "vote"})
    assert view_event(room, e, PROJECTOR, {})["votes"]["totals"] == {"c1": 3, "n1": 1}


def test_phase_change_out_of_private_writing_reveals_notes() -> None:
    room = make_room("cluster", private_writing=True)
    e = ev("phase_changed", {"phase": "cluster", "previous": "collect"})
    out = view_event(room, e, Viewer("participant", P3), {})
    assert [n["id"] for n in out["notes"]] == ["n1", "n4"]  # all visible, but not its own
    assert "notes" not in view_event(room, e, PROJECTOR, {})


def test_cluster_assignments_of_hidden_notes_are_filtered() -> None:
    room = make_room("cluster")
    room["notes"]["n2"]["cluster_id"] = "c1"
    room["notes"]["n1"]["cluster_id"] = "c1"
    e = ev("cluster_changed", {"cluster": room["clusters"]["c1"],
                               "assign": {"n1": "c1", "n2": "c1"}, "removed_items": ["n1"]})
    assert view_event(room, e, PROJECTOR, {})["assign"] == {"n1": "c1"}
    assert view_event(room, e, FACILITATOR, {})["assign"] == {"n1": "c1", "n2": "c1"}
    assert view_event(room, e, Viewer("participant", P2), {})["assign"] == {"n1": "c1",
                                                                              "n2": "c1"}


# ------------------------------------------------------------ removing a participant
def removed_event(room: dict[str, Any]) -> Event:
    """Bram removed: his hidden note n2 (with a dot of Cor's) and his dot on c1."""
    ev = Event(41, "participant_removed", "", {
        "participant_id": P2, "perspective": None, "note_ids": ["n2"],
        "hidden_note_ids": ["n2"], "removed_items": ["n2"], "totals": {"c1": 2},
        "voters": 1, "count": 2})
    apply_event(room, ev)
    return ev


def test_a_removed_participant_leaves_no_note_dot_or_name_in_the_room() -> None:
    room = make_room("vote")
    removed_event(room)
    assert set(room["notes"]) == {"n1", "n3", "n4"}
    assert P2 not in room["participants"] and P2 not in room["ballots"]
    assert room["ballots"] == {P1: {"c1": 2, "n1": 1}}   # Cor's dot on n2 went back
    assert room["totals"] == {"c1": 2, "n1": 1}


def test_participant_removed_is_cut_per_viewer() -> None:
    room = make_room("results")
    ev = removed_event(room)
    fac = view_event(room, ev, FACILITATOR, {})
    assert fac["participant_id"] == P2 and fac["note_ids"] == ["n2"]
    assert fac["votes"]["totals"] == {"c1": 2, "n1": 1} and fac["count"] == 2
    for viewer in (PROJECTOR, PARTICIPANTS, Viewer("participant", P1)):
        seen = view_event(room, ev, viewer, {})
        assert seen["note_ids"] == []   # n2 was hidden: they never saw it
        assert "participant_id" not in seen
        assert seen["removed_items"] == ["n2"] and seen["votes"]["totals"] == {"c1": 2, "n1": 1}


def test_participant_removed_during_private_writing_names_no_note() -> None:
    room = make_room("collect", private_writing=True)
    ev = Event(41, "participant_removed", "", {
        "participant_id": P1, "perspective": "Bewoner", "note_ids": ["n1", "n4"],
        "hidden_note_ids": [], "removed_items": [], "totals": {}, "voters": 2, "count": 2})
    apply_event(room, ev)
    assert view_event(room, ev, PARTICIPANTS, {})["note_ids"] == []
    assert view_event(room, ev, PROJECTOR, {})["note_ids"] == ["n1", "n4"]


def test_the_facilitator_gets_the_joins_of_the_last_minute() -> None:
    room = make_room()
    room["participants"][P1]["joined_at"] = 100_000
    room["participants"][P2]["joined_at"] = 159_000
    room["participants"][P3]["joined_at"] = 30_000
    assert recent_joins(room, now_ms=160_000) == [1_000]
    assert recent_joins(room, now_ms=159_500) == [500, 59_500]
    assert "recent_joins" in view_state(room, FACILITATOR)["participants"]
    assert "recent_joins" not in view_state(room, PROJECTOR)["participants"]

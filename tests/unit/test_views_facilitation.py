"""server/views.py for issue 15: waiting notes (approval_required) and the quiet wall
(wall_during_collect "count"), from a room built by hand."""

from __future__ import annotations

from server.views import (
    FACILITATOR,
    PARTICIPANTS,
    PROJECTOR,
    Viewer,
    public_items,
    view_event,
    view_state,
)
from tests.unit.test_views import P1, P3, ev, ids, make_room


def test_a_waiting_note_is_its_authors_and_the_facilitators_only() -> None:
    room = make_room()
    room["notes"]["n1"]["pending"] = True
    assert "n1" in ids(view_state(room, FACILITATOR))
    assert "n1" in ids(view_state(room, Viewer("participant", P1)))
    for viewer in (PROJECTOR, PARTICIPANTS, Viewer("participant", P3)):
        assert "n1" not in ids(view_state(room, viewer))
        for kind in ("note_added", "note_edited", "note_moderated"):
            assert view_event(room, ev(kind, {"note": room["notes"]["n1"]}), viewer, {}) is None
    gone = ev("note_deleted", {"note_id": "n1", "pending": True, "author_id": P1,
                               "removed_items": []})
    for viewer in (PROJECTOR, PARTICIPANTS, Viewer("participant", P3)):
        assert view_event(room, gone, viewer, {}) is None
    assert view_event(room, gone, Viewer("participant", P1), {})["note_id"] == "n1"
    # It is no item, so no figure counts it.
    assert "n1" not in public_items(room)
    # Approved: everyone who may see notes gets it.
    del room["notes"]["n1"]["pending"]
    approved = ev("note_approved", {"note_id": "n1", "note": room["notes"]["n1"]})
    for viewer in (PROJECTOR, PARTICIPANTS, Viewer("participant", P1)):
        assert view_event(room, approved, viewer, {})["note"]["pending"] is False


def test_an_edit_that_puts_a_note_back_in_the_queue_takes_it_off_screens() -> None:
    room = make_room()
    room["notes"]["n1"]["pending"] = True
    e = ev("note_edited", {"note": room["notes"]["n1"], "requeued": True})
    assert view_event(room, e, PROJECTOR, {}) == {"note_id": "n1", "hidden": False,
                                                   "pending": True}
    assert view_event(room, e, Viewer("participant", P1), {})["note"]["pending"] is True


def test_the_quiet_wall_gets_counts_while_collecting_and_notes_after() -> None:
    room = make_room(wall_during_collect="count")
    state = view_state(room, PROJECTOR)
    assert state["notes"] == [] and state["note_counts"] == {"q1": 3}  # n2 is hidden
    assert "note_counts" not in view_state(room, PARTICIPANTS)
    assert len(view_state(room, PARTICIPANTS)["notes"]) == 3
    for kind in ("note_added", "note_edited", "note_moderated"):
        e = ev(kind, {"note": room["notes"]["n1"]})
        assert view_event(room, e, PROJECTOR, {}) == {"note_counts": {"q1": 3}}
    room["workshop"]["phase"] = "cluster"
    change = view_event(room, ev("phase_changed", {"phase": "cluster", "previous": "collect"}),
                        PROJECTOR, {})
    assert change["note_counts"] is None
    assert [n["id"] for n in change["notes"]] == ["n1", "n3", "n4"]
    assert "note_counts" not in view_state(room, PROJECTOR)

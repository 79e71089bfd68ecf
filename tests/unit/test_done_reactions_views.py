"""Issue 13 in the pure layer: how the room applies `participant_done` and `note_reacted`,
what each role sees of them (counts only, a phone its own), and that the Python client
applier turns each cut into what a fresh welcome says."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from server.args import clean_args
from server.client_state import apply_events
from server.errors import DomainError, message
from server.events import Event
from server.fanout import own_note_authors
from server.room import apply_event
from server.rules import REACTIONS
from server.views import FACILITATOR, PARTICIPANTS, PROJECTOR, Viewer, view_event, view_state
from tests.unit.test_views import P1, P2, P3, make_room

THUMBS, HEART, IDEA, QUESTION = REACTIONS
VIEWERS = [FACILITATOR, PROJECTOR, PARTICIPANTS, Viewer("participant", P1),
           Viewer("participant", P2), Viewer("participant", P3)]


def reacted(room: dict[str, Any], seq: int, pid: str, nid: str, emoji: str, on: bool) -> Event:
    """The event ops.lua would store for this tap (the counts after it)."""
    note = room["notes"][nid]
    counts = dict(note.get("reactions") or {})
    has = f"{pid}|{emoji}" in (note.get("reacted") or {})
    if on and not has:
        counts[emoji] = counts.get(emoji, 0) + 1
    elif not on and has:
        counts[emoji] -= 1
        if not counts[emoji]:
            del counts[emoji]
    return Event(seq, "note_reacted", pid, {"note_id": nid, "participant_id": pid,
                                            "emoji": emoji, "on": on, "reactions": counts})


def replay(room: dict[str, Any], events: list[Event]) -> dict[Viewer, dict[str, Any]]:
    """Each viewer's state after the events, by the client applier from its welcome."""
    states = {v: view_state(room, v) for v in VIEWERS
              if v.pid is not None or v.role != "participant"}
    for ev in events:
        apply_event(room, ev)
        cache: dict[str, Any] = {}
        for v, state in states.items():
            data = view_event(room, ev, v, cache)
            if isinstance(data, dict):
                apply_events(state, [{"seq": ev.seq, "kind": ev.kind, "data": data}], v.pid)
    return states


def test_reactions_count_once_and_never_say_who() -> None:
    room = make_room("collect")
    events = []
    for seq, (pid, emoji, on) in enumerate([(P2, THUMBS, True), (P3, THUMBS, True),
                                            (P3, HEART, True), (P2, THUMBS, False),
                                            (P1, IDEA, True)], start=1):
        ev = reacted(room, seq, pid, "n1", emoji, on)
        events.append(ev)
        before = copy.deepcopy(room)
        apply_event(before, ev)
        for v in VIEWERS:
            data = view_event(before, ev, v, {})
            assert data is None or set(data) <= {"note_id", "reactions", "my_reactions"}
            if isinstance(data, dict):
                assert "my_reactions" in data or v.pid != pid
                assert all(p not in str(data) for p in (P1, P2, P3))
        room = before
    assert room["notes"]["n1"]["reactions"] == {THUMBS: 1, HEART: 1, IDEA: 1}
    for v in VIEWERS:
        note = next(n for n in view_state(room, v)["notes"] if n["id"] == "n1")
        assert note["reactions"] == {THUMBS: 1, HEART: 1, IDEA: 1}
        assert "reacted" not in note
        assert ("my_reactions" in note) == (v.pid is not None)
    p3 = next(n for n in view_state(room, Viewer("participant", P3))["notes"] if n["id"] == "n1")
    assert p3["my_reactions"] == [THUMBS, HEART]


def test_client_applier_ends_where_a_fresh_welcome_starts() -> None:
    start = make_room("collect")
    room = copy.deepcopy(start)
    taps = [(P2, "n1", THUMBS, True), (P3, "n1", THUMBS, True), (P1, "n4", QUESTION, True),
            (P3, "n1", THUMBS, False), (P2, "n4", HEART, True)]
    events: list[Event] = []
    for seq, (pid, nid, emoji, on) in enumerate(taps, start=1):
        ev = reacted(room, seq, pid, nid, emoji, on)
        apply_event(room, ev)
        events.append(ev)
    events += [
        Event(6, "participant_done", P1, {"participant_id": P1, "done": True}),
        Event(7, "participant_done", P2, {"participant_id": P2, "done": True}),
        Event(8, "participant_done", P1, {"participant_id": P1, "done": False}),
        Event(9, "note_edited", P1, {"note": {**room["notes"]["n4"], "text": "anders"}}),
    ]
    room = copy.deepcopy(start)
    states = replay(room, events)
    for v, state in states.items():
        fresh = view_state(room, v)
        assert state["notes"] == fresh["notes"], v
        assert state["participants"]["done"] == fresh["participants"]["done"] == 1, v
        assert state.get("me") == fresh.get("me"), v
    # A new phase: nobody is done, on every screen as in the room.
    states2 = replay(room, [Event(10, "phase_changed", "", {"phase": "cluster",
                                                           "previous": "collect"})])
    assert all(s["participants"]["done"] == 0 for s in states2.values())
    assert view_state(room, Viewer("participant", P2))["me"]["done"] is False


def test_a_reveal_brings_each_phone_its_own_reactions() -> None:
    """A phase that shows notes again (private writing) is cut per phone that reacted:
    the notes come with its my_reactions, which the shared cut cannot carry."""
    room = make_room("collect")
    ev = reacted(room, 1, P2, "n1", HEART, True)
    apply_event(room, ev)
    room["workshop"]["settings"]["private_writing"] = True
    change = Event(2, "phase_changed", "", {"phase": "cluster", "previous": "collect"})
    apply_event(room, change)
    assert own_note_authors(room, change) >= {P2}
    data = view_event(room, change, Viewer("participant", P2), {})
    note = next(n for n in data["notes"] if n["id"] == "n1")
    assert note["my_reactions"] == [HEART]


def test_only_the_four_reactions_are_taken() -> None:
    for emoji in REACTIONS:
        assert clean_args("react", {"note_id": "n1", "emoji": emoji, "on": True}, {})[
            "emoji"] == emoji
    for wrong in ("\u2764", "\U0001F4A9", "", None, 1, ["\U0001F44D"], "\U0001F44D "):
        with pytest.raises(DomainError) as info:
            clean_args("react", {"note_id": "n1", "emoji": wrong, "on": True}, {})
        assert info.value.code == "bad_reaction"
    said = message("bad_reaction", "nl", {"choices": " ".join(REACTIONS)})
    assert said == "Deze reactie kennen we niet. Kies een van deze: " + " ".join(REACTIONS) + "."

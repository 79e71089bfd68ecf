"""The server's appliers reproduce a recorded workshop (tests/golden/workshop.json).

Pure: no server, no Redis. The fixture was recorded over the real server by
`python -m tests.golden.record`: every role's welcome and the frames its socket got,
the raw event stream, the stored room before and after, and at checkpoints (the last
one after the last event) a fresh welcome per role and how many frames each socket had.
- server.room.apply_event over the raw events turns the first stored room into the last,
  and server.views.view_state of it, up to each checkpoint, is each role's fresh welcome;
- server.client_state.apply_events over what each socket got up to a checkpoint turns its
  welcome into the same fresh welcome.
The JS applier is held to the same fixture by tests/js/state.test.mjs.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from server.client_state import apply_events
from server.events import EVENT_KINDS, Event
from server.room import Room, apply_event
from server.views import FACILITATOR, PROJECTOR, Viewer, view_state
from tests.support import comparable, differences

FIXTURE = Path(__file__).resolve().parents[1] / "golden" / "workshop.json"
GOLDEN: dict[str, Any] = orjson.loads(FIXTURE.read_bytes())
ROLES = sorted(GOLDEN["sockets"])
CHECKS = [(c["label"], role) for c in GOLDEN["checkpoints"] for role in ROLES]


def viewer(role: str) -> Viewer:
    me = GOLDEN["sockets"][role]["me"]
    return {"facilitator": FACILITATOR, "projector": PROJECTOR}.get(
        role, Viewer("participant", me))


def stored(room: Room) -> Room:
    """A room without what no event carries: the last write's time, and presence."""
    out = copy.deepcopy(room)
    out["workshop"].pop("updated_at")
    out.pop("online")
    return out


def replayed(upto: int | None = None) -> Room:
    room = copy.deepcopy(GOLDEN["initial_room"])
    for ev in GOLDEN["events"]:
        if upto is None or ev["seq"] <= upto:
            apply_event(room, Event(**ev))
    return room


def checkpoint(label: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in GOLDEN["checkpoints"] if c["label"] == label)
    return found


def assert_same(got: dict[str, Any], want: dict[str, Any], what: str) -> None:
    diff = differences(got, want)
    assert not diff, f"{what}:\n" + "\n".join(diff[:20])


def test_the_fixture_covers_the_workshop() -> None:
    kinds = {ev["kind"] for ev in GOLDEN["events"]}
    assert kinds == EVENT_KINDS
    assert GOLDEN["final_room"]["workshop"]["phase"] == "results"
    assert GOLDEN["checkpoints"][-1]["seq"] == GOLDEN["events"][-1]["seq"]
    assert GOLDEN["checkpoints"][-1]["fresh"] == GOLDEN["fresh"]
    assert {"facilitator", "projector"} < set(ROLES) and len(ROLES) == 4


def test_room_apply_event_rebuilds_the_stored_room() -> None:
    assert_same(stored(replayed()), stored(GOLDEN["final_room"]), "replayed room")


@pytest.mark.parametrize(("label", "role"), CHECKS)
def test_views_of_the_replayed_room_are_the_fresh_welcomes(label: str, role: str) -> None:
    check = checkpoint(label)
    state = view_state(replayed(check["seq"]), viewer(role))
    assert_same(comparable(state), comparable(check["fresh"][role]), f"{label}: {role}")


@pytest.mark.parametrize(("label", "role"), CHECKS)
def test_client_applier_reaches_the_fresh_welcome(label: str, role: str) -> None:
    check, sock = checkpoint(label), GOLDEN["sockets"][role]
    state = copy.deepcopy(sock["welcome"])
    for frame in sock["frames"][:check["frames"][role]]:
        if frame["type"] == "events":
            apply_events(state, frame["events"], sock["me"])
        else:   # presence: the counts of people (online is left out of the comparison)
            state["participants"].update(frame["participants"])
    assert_same(comparable(state), comparable(check["fresh"][role]), f"{label}: {role}")

"""What each role sees of a session plan: where in the plan the room is, the plan itself
(the facilitator only), and the two plan events. Pure; the cuts are view_state's, so
that a screen moved to another activity sees exactly what a fresh welcome would show."""

from __future__ import annotations

from typing import Any

from server.room import Room
from server.view_state import Viewer, facilitator_plan, plan_position, view_state

# What activity_changed replaces on a screen (the contract), and what else of a welcome
# is per activity or reset by it.
REPLACED = ("workshop", "prompts", "notes", "clusters", "votes")
ALSO = ("participants", "me", "my_sign_ups", "sign_up_list")


def view_plan_event(room: Room, kind: str, viewer: Viewer) -> dict[str, Any]:
    """activity_changed: the viewer's new workshop, prompts, notes, clusters and votes
    (with `mine` for a participant's own cut), its `participants` and `me` (nobody is done
    yet), and `note_counts` (null where the wall shows notes). plan_changed: where in the
    plan the room is; the facilitator also the plan."""
    if kind == "activity_changed":
        state = view_state(room, viewer)
        out = {key: state[key] for key in (*REPLACED, *ALSO) if key in state}
        out["note_counts"] = state.get("note_counts")
        return out
    out = plan_position(room)
    if viewer.role == "facilitator":
        out["plan"] = facilitator_plan(room)
    return out

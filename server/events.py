"""Events: what happened in a workshop, one per change, in seq order.

Pure: no Redis, no Starlette. The store writes events (server/lua/ops.lua appends each
with the op that made it) and reads them back as `Event`; the room (server/room.py)
applies them, the views (server/views.py) cut them per role, and the client applier
(server/client_state.py, static/js/state.js) applies the cut events to a screen's state.
The full shapes per role are in docs/protocol.md ("events"); tests/unit/
test_event_kinds.py keeps ops.lua, static/js, the docs and `KINDS` naming the same kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    """One stored event: its seq, kind, the actor that caused it and its data as stored
    (the facilitator's full view; server/views.py cuts it for the other roles)."""

    seq: int
    kind: str
    actor: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Kind:
    """An event kind: its name on the wire, and what it means and carries (stored data)."""

    name: str
    doc: str


KINDS: tuple[Kind, ...] = (
    Kind("note_added", "A note was posted: `note` (the whole note)."),
    Kind("note_edited", "A note's text changed: `note`."),
    Kind("note_moderated", "A note was hidden or shown: `note`; `removed_items` holds the "
         "note when hiding gave its dots back."),
    Kind("note_approved", "A waiting note was approved (setting approval_required): "
         "`note_id`, `note` (no longer pending)."),
    Kind("note_deleted", "A note is gone: `note_id`, `cluster_id`, `removed_items`; "
         "`pending` and `author_id` when it was waiting for approval."),
    Kind("cluster_changed", "A cluster was made, filled, renamed or emptied: `cluster` (or "
         "null), `assign` {note_id: cluster_id or null}, `removed_items`."),
    Kind("cluster_deleted", "A cluster is gone, its notes loose again: `cluster_id`, "
         "`assign`, `removed_items`."),
    Kind("clusters_merged", "A cluster went into another: `cluster_id` (gone), `into` (the "
         "cluster it went into), `assign` {note_id: into id}, `ballots` {participant_id: "
         "its ballot, where dots moved}, `total` (into's new total), `signups` "
         "{participant_id: its offers, where they moved}."),
    Kind("votes_changed", "A participant placed or took back a dot: `participant_id`, "
         "`item_id`, `delta`, `mine` (its ballot), `total`, `voters`."),
    Kind("phase_changed", "The workshop moved on: `phase`, `previous`."),
    Kind("timer_changed", "The timer was started, stopped or changed: `timer`, `at`."),
    Kind("settings_changed", "Settings changed: `settings` (all), `changed` (their keys)."),
    Kind("participant_changed", "A participant joined or set its profile: `participant`, "
         "`count`, `joined` or `previous_perspective`."),
    Kind("workshop_changed", "The workshop was locked or unlocked: `locked`."),
    Kind("signups_changed", "A participant offered to help with an item, or took it back: "
         "`participant_id`, `item_id`, `on`, `contact` (only with consent, else null), `at`."),
    Kind("participant_removed", "A participant was removed with its notes and dots: "
         "`participant_id`, `perspective`, `note_ids`, `hidden_note_ids`, `removed_items`, "
         "`totals` (fresh totals of the items it had dots on), `voters`, `count`, "
         "`reactions` {note_id: fresh counts} of the notes it had reacted to."),
    Kind("participant_done", "A participant said it is done in this phase, or took that "
         "back: `participant_id`, `done` (bool)."),
    Kind("note_reacted", "A participant put a reaction on a note or took it off: "
         "`note_id`, `participant_id`, `emoji`, `on`, `reactions` (the note's fresh counts)."),
    Kind("prompts_changed", "A question was added or reworded: `prompts` (all of them, in "
         "order: replace)."),
    Kind("activity_changed", "Another activity of the session plan is current: "
         "`activity_id`, `previous`, `activities`, `plan`, and the new activity whole: "
         "`phase`, `prompts`, `timer`, `settings`, `notes`, `clusters`, `ballots`, `totals` "
         "(stored as ops.lua parked them: flat lists of raw values)."),
    Kind("plan_changed", "An activity was added, edited, removed or moved: `activities` "
         "[{id, title}], `plan` [{id, title, prompts, phase}]."),
)

EVENT_KINDS: frozenset[str] = frozenset(kind.name for kind in KINDS)

"""The rules of a workshop, without I/O: phases, roles, default settings, limits, and
who may send which op (an op is added here first: OPS).

Everything here is plain Python, tested in milliseconds. The Redis scripts apply the
same rules atomically (they re-check what depends on the stored state: phase, ownership,
budgets). Cleaning what a client sends lives beside it: server/args.py (op arguments,
a new workshop), server/workshop_settings.py, server/text.py; the vote rule in
server/votes.py.
"""

from __future__ import annotations

from typing import Any, Final

from server.language import DEFAULT_LANGUAGE

PHASES: Final = ("collect", "cluster", "vote", "results", "closed")
ROLES: Final = ("participant", "facilitator", "projector")

DEFAULT_SETTINGS: Final[dict[str, Any]] = {
    "anonymous": True,
    "votes_per_participant": 5,
    "max_votes_per_item": 3,
    "max_note_length": 280,
    "perspectives": [],
    "show_live_votes": False,
    "private_writing": False,
    "language": DEFAULT_LANGUAGE,
    # Extensions (docs/protocol.md): the author's perspective as a label on the wall, and
    # the dots per perspective on the wall in the results phase.
    "show_provenance": False,
    "show_groups_on_wall": False,
    # A locked room also refuses notes and dots from participants who have posted
    # neither yet (accounts made in advance to flood it later): docs/protocol.md.
    "lock_silent": False,
    # Facilitation (docs/protocol.md): participants' new notes wait for the facilitator's
    # approval before anyone else sees them; the wall shows only counts while collecting.
    "approval_required": False,
    "wall_during_collect": "live",
    # A session plan: the time this activity suggests for its timer (seconds), which the
    # control screen offers to start (a round of 1-2-4-Alle), or None.
    "timer_seconds": None,
}

# Settings of the whole session, not of one activity (a session plan): they follow into
# every activity (server/lua/ops.lua WIDE_SETTINGS holds the same list).
WIDE_SETTINGS: Final = ("perspectives", "anonymous", "language", "lock_silent",
                        "show_provenance", "approval_required")
# A session plan has 1 to MAX_ACTIVITIES activities.
MAX_ACTIVITIES = 12

# The values of wall_during_collect: notes as they come, or only how many per question.
WALL_MODES: Final = ("live", "count")

MAX_TITLE = 120
MAX_PROMPT = 200
MAX_PROMPTS = 6
MAX_NAME = 40
MAX_PERSPECTIVE = 40
MAX_PERSPECTIVES = 8
MAX_CLUSTER_TITLE = 80
MAX_IDS = 500
MAX_ID = 64
MAX_TIMER_SECONDS = 24 * 3600
MAX_CONTACT = 200  # sign_up: an e-mail address or phone number, as the participant types it

# Bounds on what one workshop stores, whatever its clients send (the Lua script gets them
# from server/store.py; a deployment may change them, see server/config.py).
# Notes one participant has at a time, and notes in one workshop: `too_many_notes`.
NOTES_PER_PARTICIPANT = 200
NOTES_PER_WORKSHOP = 5000
# Op answers kept for resends: a resend comes from a phone that lost its connection, so
# only while it may still come back (a day) and only its latest ones (what was in flight).
ANSWER_TTL_MS = 24 * 3600 * 1000
ANSWERS_PER_ACTOR = 100

# Which role may send which op. Phase and ownership are checked against the state.
OPS: Final[dict[str, frozenset[str]]] = {
    "add_note": frozenset({"participant"}),
    "edit_note": frozenset({"participant", "facilitator"}),
    "delete_note": frozenset({"participant", "facilitator"}),
    "set_profile": frozenset({"participant"}),
    "vote": frozenset({"participant"}),
    "set_phase": frozenset({"facilitator"}),
    "timer": frozenset({"facilitator"}),
    "moderate_note": frozenset({"facilitator"}),
    "cluster": frozenset({"facilitator"}),
    "uncluster": frozenset({"facilitator"}),
    "rename_cluster": frozenset({"facilitator"}),
    "delete_cluster": frozenset({"facilitator"}),
    "update_settings": frozenset({"facilitator"}),
    "set_lock": frozenset({"facilitator"}),
    "remove_participant": frozenset({"facilitator"}),
    "hide_participant_notes": frozenset({"facilitator"}),
    # Facilitation (version 1.1): "I'm done" and reactions on notes.
    "set_done": frozenset({"participant"}),
    "react": frozenset({"participant"}),
    # Version 1.1, facilitation: questions that change during the session.
    "add_prompt": frozenset({"facilitator"}),
    "edit_prompt": frozenset({"facilitator"}),
    # Version 1.1, facilitation: merging themes, and "ik doe mee" on an item.
    "merge_clusters": frozenset({"facilitator"}),
    "sign_up": frozenset({"participant"}),
    "add_paper_note": frozenset({"facilitator"}),
    "approve_notes": frozenset({"facilitator"}),
    # Version 1.1, a session plan: move everyone to another activity, edit the plan.
    "set_activity": frozenset({"facilitator"}),
    "add_activity": frozenset({"facilitator"}),
    "edit_activity": frozenset({"facilitator"}),
    "remove_activity": frozenset({"facilitator"}),
    "move_activity": frozenset({"facilitator"}),
    # Version 1.1, sorting help (issue 11): theme suggestions, applied and undone in one
    # step, and "Lijkt op" on the phone. suggest_themes and similar_notes change nothing
    # (server/suggestions.py answers them from the room, with the model in its worker).
    "suggest_themes": frozenset({"facilitator"}),
    "apply_themes": frozenset({"facilitator"}),
    "undo_themes": frozenset({"facilitator"}),
    "similar_notes": frozenset({"participant"}),
}

# Sorting help: the ops that only read (no store script, ack seq null), and the phases of
# each sorting op (elsewhere they nack wrong_phase).
QUERY_OPS: Final = frozenset({"suggest_themes", "similar_notes"})
SORTING_PHASES: Final[dict[str, tuple[str, ...]]] = {
    "suggest_themes": ("collect", "cluster"),
    "apply_themes": ("collect", "cluster"),
    "undo_themes": ("collect", "cluster"),
    "similar_notes": ("collect",),
}
MAX_THEMES = 100  # themes in one apply_themes
SIMILAR_LIMIT = 3  # similar_notes: at most this many notes
SIMILAR_MIN_CHARS = 3  # similar_notes: a shorter text gets no notes (nothing to compare)
MAX_SUGGEST_NOTES = 1000  # suggest_themes looks at this many unsorted notes at most
# An undo record is kept this long (and the newest UNDO_KEPT of them): then undo_stale.
UNDO_TTL_MS = 24 * 3600 * 1000
UNDO_KEPT = 20

# The reactions a participant may put on a note (one of each per note), in their order
# on every screen.
REACTIONS: Final = ("\U0001F44D", "\u2764\ufe0f", "\U0001F4A1", "\u2753")
REACT_PHASES: Final = ("collect", "cluster")

def may(role: str, op: str) -> bool:
    """True when `role` may send `op` at all (whatever the phase)."""
    return role in OPS.get(op, frozenset())


# The phase in which an op that depends on the phase is allowed ("" = any but closed).
OP_PHASE: Final[dict[str, str]] = {"add_note": "collect", "vote": "vote"}

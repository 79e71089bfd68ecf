"""What each role sees: the contract's visibility rules, as pure functions of a room.

- facilitator: everything.
- projector: no hidden notes; authors only where the workshop is not anonymous; vote
  totals only from the results phase on, or with show_live_votes (always `voters`).
- participant: as the projector, plus its own notes (with author) and its own dots;
  with private_writing, during collect only its own notes.

The state a viewer starts from is server/view_state.py's, the participants' part
server/view_participants.py's; this module cuts each event for a viewer.
"""

from __future__ import annotations

from typing import Any

from server import results
from server.events import Event
from server.room import Room
from server.view_participants import (
    JOINS_WINDOW_MS,
    done_count,
    group_crossed,
    participant_list,
    recent_joins,
    shown_perspective,
    view_participants,
)
from server.view_plan import view_plan_event
from server.view_signups import my_sign_ups, sign_up_list, view_signups_event
from server.view_state import (
    FACILITATOR,
    PARTICIPANTS,
    PROJECTOR,
    VISIBILITY_SETTINGS,
    WALL_SETTINGS,
    Viewer,
    my_reactions,
    note_counts,
    note_visible,
    public_items,
    quiet_wall,
    view_note,
    view_state,
    view_timer,
    view_votes,
    view_workshop,
    visible_notes,
    votes_visible,
)

__all__ = [
    "FACILITATOR", "JOINS_WINDOW_MS", "PARTICIPANTS", "PARTICIPANT_COUNT", "PROJECTOR",
    "VISIBILITY_SETTINGS", "VOTES_SUMMARY", "WALL_SETTINGS", "Viewer", "done_count",
    "group_crossed", "my_reactions", "note_counts", "note_visible", "participant_list",
    "public_items", "quiet_wall", "recent_joins", "shown_perspective", "view_event",
    "view_note", "view_participants", "view_state", "view_timer", "view_votes",
    "view_workshop", "visible_notes", "votes_visible",
]


# Returned by view_event for a vote that a viewer sees only as a coalesced summary.
VOTES_SUMMARY = "votes_summary"
# ... and for someone else joining or changing profile where a phone sees only the count
# (an anonymous workshop): a join storm is then one count per batch, not one per join.
PARTICIPANT_COUNT = "participant_count"


def _filter_assign(room: Room, assign: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    notes = room["notes"]
    return {nid: cid for nid, cid in assign.items()
            if nid in notes and note_visible(room, notes[nid], viewer)}


def _refunded(
    room: Room, d: dict[str, Any], viewer: Viewer, cache: dict[str, Any], out: dict[str, Any]
) -> dict[str, Any]:
    """Add `removed_items` and, when dots were given back, the fresh `votes`: ranking,
    groups, common ground and divided depend on every dot, so a client cannot derive
    them from removed_items alone."""
    out["removed_items"] = d.get("removed_items", [])
    if out["removed_items"]:
        out["votes"] = view_votes(room, viewer, cache)
    return out


def view_event(room: Room, ev: Event, viewer: Viewer, cache: dict[str, Any]) -> Any:
    """The event's data as this viewer may see it, just after it was applied to `room`.

    Returns None (not for this viewer), VOTES_SUMMARY (a vote: send the coalesced totals
    once per batch), PARTICIPANT_COUNT (send the count once per batch), or the data dict.
    """
    d = ev.data
    kind = ev.kind
    staff = viewer.role == "facilitator"
    if kind in ("note_added", "note_edited", "note_moderated", "note_approved"):
        note = room["notes"].get(d["note"]["id"])
        if note is None:
            return None
        out: dict[str, Any] | None = None
        if note_visible(room, note, viewer):
            out = {"note_id": note["id"], "hidden": bool(note["hidden"]),
                   "note": view_note(room, note, viewer)}
        elif kind == "note_moderated" and not note.get("pending"):
            # (A waiting note: nobody else ever had it, so nobody else hears of it.)
            out = {"note_id": note["id"], "hidden": True}
        elif kind == "note_edited" and d.get("requeued"):
            # An approved note changed by its author waits again (approval_required):
            # whoever had it drops it until it is approved anew.
            out = {"note_id": note["id"], "hidden": False, "pending": True}
        if quiet_wall(room, viewer):
            # The quiet wall while collecting: how many, never what (no text, no author,
            # not even the id of a note that waits for approval).
            return {"note_counts": note_counts(room)}
        if out is not None and kind == "note_moderated":
            # A hidden note is no item: hiding one gives its dots back (removed_items),
            # and the results change for everyone.
            out["removed_items"] = d.get("removed_items", [])
            if out["removed_items"] or note["id"] in room["totals"]:
                out["votes"] = view_votes(room, viewer, cache)
        return out
    if kind == "note_deleted":
        if d.get("pending") and not staff and (viewer.pid is None
                                               or viewer.pid != d.get("author_id")):
            return None  # it waited: only its author and the facilitator ever had it
        out = _refunded(room, d, viewer, cache, {"note_id": d["note_id"]})
        if quiet_wall(room, viewer):
            out["note_counts"] = note_counts(room)
        return out
    if kind == "cluster_changed":
        return _refunded(room, d, viewer, cache, {
            "cluster": d.get("cluster"), "assign": _filter_assign(room, d["assign"], viewer)})
    if kind == "cluster_deleted":
        return _refunded(room, d, viewer, cache, {
            "cluster_id": d["cluster_id"], "assign": _filter_assign(room, d["assign"], viewer)})
    if kind == "clusters_merged":
        return _merged(room, d, viewer, cache)
    if kind == "signups_changed":
        return view_signups_event(room, d, viewer.role, viewer.pid)
    if kind == "votes_changed":
        if viewer.pid is not None and viewer.pid == d["participant_id"]:
            own = {"item_id": d["item_id"], "delta": d["delta"], "mine": d["mine"],
                   "voters": d["voters"]}
            if votes_visible(room, viewer):
                own.update(view_votes(room, viewer, cache))
            return own
        # Everyone else gets the coalesced summary: totals where visible, else only
        # `voters` (the hub sends it to phones at a bounded rate).
        return VOTES_SUMMARY
    if kind in ("phase_changed", "settings_changed"):
        out = dict(d)
        if not staff:
            out["votes"] = view_votes(room, viewer, cache)
            reveal = (
                kind == "settings_changed" and VISIBILITY_SETTINGS & set(d.get("changed", []))
            ) or (
                kind == "phase_changed" and room["workshop"]["settings"]["private_writing"]
                and viewer.role == "participant"
            )
            if reveal:
                # Every note this viewer may now see, except its own (which it has).
                out["notes"] = visible_notes(room, viewer, others_only=True)
            if viewer.role == "projector" and _wall_turns(room, kind, d):
                # The quiet wall's notes come with the phase (or setting) that shows
                # them, and go with the one that hides them: counts instead.
                out["notes"] = visible_notes(room, viewer)
                out["note_counts"] = note_counts(room) if quiet_wall(room, viewer) else None
        else:
            out["votes"] = view_votes(room, viewer, cache)
        return out
    if kind == "timer_changed":
        return {"timer": view_timer(d["timer"])}
    if kind == "participant_changed":
        p = d["participant"]
        if viewer.pid == p["participant_id"]:
            return {"participant": p, "count": d["count"]}
        out = {"count": d["count"]}
        if staff or not room["workshop"]["settings"]["anonymous"]:
            # Names are public where the workshop is not anonymous (authors follow them).
            out["participant"] = {"participant_id": p["participant_id"], "name": p.get("name"),
                                  "perspective": shown_perspective(room, p)}
            if staff:
                out["participant"]["joined_at"] = p.get("joined_at")
                if d.get("joined"):
                    out["joined"] = True  # a new participant: the joins per minute
        if group_crossed(room, d):
            # A group reached or left the size at which it is shown on its own: every
            # label of its members changes, so the screens get them afresh.
            if staff:
                out["list"] = participant_list(room)
            if staff or room["workshop"]["settings"].get("show_provenance") or (
                not room["workshop"]["settings"]["anonymous"]
            ):
                out["notes"] = visible_notes(room, viewer, others_only=True)
        if viewer.role == "participant" and out.keys() == {"count"}:
            return PARTICIPANT_COUNT
        return out
    if kind == "workshop_changed":
        return dict(d)
    if kind == "prompts_changed":
        # Every screen shows the questions: the phone's choice, the wall's columns.
        return {"prompts": [dict(p) for p in d["prompts"]]}
    if kind == "participant_removed":
        return _removed(room, d, viewer, cache)
    if kind == "participant_done":
        return _done(room, d, viewer, cache)
    if kind == "note_reacted":
        return _reacted(room, d, viewer)
    if kind in ("activity_changed", "plan_changed"):
        return view_plan_event(room, kind, viewer)
    return dict(d) if staff else None


def _done(room: Room, d: dict[str, Any], viewer: Viewer, cache: dict[str, Any]) -> Any:
    """Everyone gets how many are done; the participant itself its own flag too, the
    facilitator whose flag it was."""
    if "done" not in cache:
        cache["done"] = done_count(room)
    out: dict[str, Any] = {"participants_done": cache["done"]}
    if viewer.role == "facilitator" or viewer.pid == d["participant_id"]:
        out["done"] = d["done"]
    if viewer.role == "facilitator":
        out["participant_id"] = d["participant_id"]
    return out


def _reacted(room: Room, d: dict[str, Any], viewer: Viewer) -> Any:
    """A note's fresh counts for whoever sees the note, never who reacted; the reactor's
    own sockets also get its my_reactions."""
    note = room["notes"].get(d["note_id"])
    if note is None or not note_visible(room, note, viewer):
        return None
    out: dict[str, Any] = {"note_id": note["id"], "reactions": dict(d["reactions"])}
    if viewer.pid is not None and viewer.pid == d["participant_id"]:
        out["my_reactions"] = my_reactions(note, viewer.pid)
    return out


def _merged(room: Room, d: dict[str, Any], viewer: Viewer, cache: dict[str, Any]) -> Any:
    """Two clusters made one: the gone cluster's id, the one it went into, the notes that
    moved, the fresh `votes` (its dots moved along); a participant whose dots moved gets
    its new `mine`, the facilitator the sign-up list where offers moved."""
    out: dict[str, Any] = {
        "cluster_id": d["cluster_id"], "cluster": d["into"],
        "assign": _filter_assign(room, d["assign"], viewer),
        "votes": view_votes(room, viewer, cache)}
    if viewer.pid is not None and viewer.pid in d.get("ballots", {}):
        out["mine"] = dict(room["ballots"].get(viewer.pid, {}))
    if d.get("signups"):
        if viewer.role == "facilitator":
            out["sign_up_list"] = sign_up_list(room)
        elif viewer.pid is not None and viewer.pid in d["signups"]:
            out["my_sign_ups"] = my_sign_ups(room, viewer.pid)
    return out


def _wall_turns(room: Room, kind: str, d: dict[str, Any]) -> bool:
    """Whether this phase or settings change may turn the quiet wall on or off."""
    if kind == "phase_changed":
        return bool(room["workshop"]["settings"].get("wall_during_collect") == "count")
    return bool(WALL_SETTINGS & set(d.get("changed", [])))


def _removed(room: Room, d: dict[str, Any], viewer: Viewer, cache: dict[str, Any]) -> Any:
    """A participant removed with its notes and dots. Others get the ids of the notes
    they could see, and the fresh `votes` (totals lost its dots)."""
    staff = viewer.role == "facilitator"
    note_ids: list[str] = d["note_ids"]
    if not staff:
        hidden = set(d["hidden_note_ids"])
        private = (viewer.role == "participant" and room["workshop"]["settings"]["private_writing"]
                   and room["workshop"]["phase"] == "collect")
        note_ids = [] if private else [n for n in note_ids if n not in hidden]
    out: dict[str, Any] = {"note_ids": note_ids, "removed_items": d["removed_items"],
                           "count": d["count"], "votes": view_votes(room, viewer, cache)}
    if staff:
        out["participant_id"] = d["participant_id"]
    out["participants_done"] = done_count(room)  # it may have been done
    notes = room["notes"]
    out["reactions"] = {nid: dict(counts) for nid, counts in d.get("reactions", {}).items()
                        if nid in notes and note_visible(room, notes[nid], viewer)}
    if quiet_wall(room, viewer):
        out["note_counts"] = note_counts(room)
    old = d.get("perspective")
    crossed = isinstance(old, str) and results.group_sizes(room["participants"]).get(
        old, 0) == results.MIN_GROUP - 1
    if crossed:
        # Its group dropped below the size at which it is shown on its own.
        if staff:
            out["list"] = participant_list(room)
        settings = room["workshop"]["settings"]
        if staff or settings.get("show_provenance") or not settings["anonymous"]:
            out["notes"] = visible_notes(room, viewer, others_only=True)
    return out

"""What each role sees: the contract's visibility rules, as pure functions of a room.

- facilitator: everything.
- projector: no hidden notes; authors only where the workshop is not anonymous; vote
  totals only from the results phase on, or with show_live_votes (always `voters`).
- participant: as the projector, plus its own notes (with author) and its own dots;
  with private_writing, during collect only its own notes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from server import results
from server.events import Event
from server.room import Room

# Settings that change which notes or authors a viewer sees.
VISIBILITY_SETTINGS = frozenset({"anonymous", "private_writing", "show_provenance"})


@dataclass(frozen=True)
class Viewer:
    role: str
    pid: str | None = None  # a participant's own id; None for the participants' shared view

    def owns(self, note: dict[str, Any]) -> bool:
        return self.pid is not None and note.get("author_id") == self.pid


FACILITATOR = Viewer("facilitator")
PROJECTOR = Viewer("projector")
PARTICIPANTS = Viewer("participant")


def note_visible(room: Room, note: dict[str, Any], viewer: Viewer) -> bool:
    if viewer.role == "facilitator" or viewer.owns(note):
        return True
    if note["hidden"]:
        return False
    ws = room["workshop"]
    return not (
        viewer.role == "participant"
        and ws["settings"]["private_writing"]
        and ws["phase"] == "collect"
    )


def view_note(room: Room, note: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    settings = room["workshop"]["settings"]
    author_id = note.get("author_id")
    out = {
        "id": note["id"],
        "prompt_id": note["prompt_id"],
        "text": note["text"],
        "cluster_id": note.get("cluster_id"),
        "hidden": bool(note["hidden"]),
        "created_at": note["created_at"],
        "author": None,
    }
    p = room["participants"].get(author_id) if author_id else None
    if p is not None and (
        viewer.role == "facilitator" or viewer.owns(note) or not settings["anonymous"]
    ):
        out["author"] = {
            "participant_id": author_id,
            "name": p.get("name"),
            "perspective": (
                p.get("perspective") if viewer.owns(note) else shown_perspective(room, p)
            ),
        }
    if settings.get("show_provenance") and p is not None:
        # The author's group as a label, guarded like every per-group figure.
        out["perspective"] = shown_perspective(room, p)
    return out


def participant_list(room: Room) -> list[dict[str, Any]]:
    """The facilitator's list of participants, perspectives guarded."""
    return [
        {"participant_id": pid, "name": p.get("name"), "perspective": shown_perspective(room, p),
         "joined_at": p.get("joined_at")}
        for pid, p in room["participants"].items()
    ]


JOINS_WINDOW_MS = 60_000


def recent_joins(room: Room, now_ms: int | None = None) -> list[int]:
    """How long ago (ms) each participant of the last minute joined, newest first: the
    control screen counts them down by its own clock (no clock of the server's needed)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    ages = (now_ms - int(p.get("joined_at") or 0) for p in room["participants"].values())
    return sorted(max(0, age) for age in ages if age < JOINS_WINDOW_MS)


def group_crossed(room: Room, d: dict[str, Any]) -> bool:
    """Did this profile change make a group reach, or drop below, results.MIN_GROUP?"""
    new, old = d["participant"].get("perspective"), d.get("previous_perspective")
    if new == old:
        return False
    sizes = results.group_sizes(room["participants"])
    return bool(
        (new and sizes.get(new, 0) == results.MIN_GROUP)
        or (old and sizes.get(old, 0) == results.MIN_GROUP - 1)
    )


def shown_perspective(room: Room, participant: dict[str, Any]) -> str | None:
    """A participant's perspective as others may see it: its group, or "other" when
    fewer than results.MIN_GROUP people chose it (nobody can be singled out)."""
    chosen = participant.get("perspective")
    if not chosen:
        return None
    sizes = results.group_sizes(room["participants"])
    return results.group_of(chosen, sizes, room["workshop"]["settings"]["perspectives"])


def visible_notes(room: Room, viewer: Viewer, *, others_only: bool = False) -> list[dict[str, Any]]:
    return [
        view_note(room, n, viewer)
        for n in sorted(room["notes"].values(), key=lambda n: (n["created_at"], n["id"]))
        if note_visible(room, n, viewer) and not (others_only and viewer.owns(n))
    ]


def votes_visible(room: Room, viewer: Viewer) -> bool:
    if viewer.role == "facilitator":
        return True
    ws = room["workshop"]
    return ws["phase"] in ("results", "closed") or (
        bool(ws["settings"]["show_live_votes"]) and ws["phase"] == "vote"
    )


def public_items(room: Room) -> set[str]:
    """The items that count, for every role, export and report: clusters and visible
    unclustered notes. A hidden note is no item: nothing ranks it (its dots were given
    back when it was hidden; this also keeps out dots stored before that rule)."""
    items = set(room["clusters"])
    items.update(
        nid for nid, n in room["notes"].items() if not n["hidden"] and not n.get("cluster_id")
    )
    return items


def view_votes(room: Room, viewer: Viewer, cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """The contract's `votes`, without `mine` (added by the caller for a participant)."""
    cache = {} if cache is None else cache
    if not votes_visible(room, viewer):
        return {
            "totals": {}, "voters": sum(1 for b in room["ballots"].values() if b),
            "by_perspective": {}, "ranking": [], "common_ground": [], "divided": [],
        }
    if "votes" not in cache:
        cache["votes"] = results.summary(
            room["ballots"], room["participants"], room["workshop"]["settings"]["perspectives"],
            public_items(room),
        )
    summary: dict[str, Any] = cache["votes"]
    return summary


def view_timer(timer: dict[str, Any], now_ms: int | None = None) -> dict[str, Any]:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if timer.get("running") and timer.get("ends_at") is not None:
        return {"running": True, "ends_at": timer["ends_at"],
                "remaining_ms": max(0, int(timer["ends_at"]) - now_ms)}
    return {"running": False, "ends_at": None, "remaining_ms": timer.get("remaining_ms")}


def view_workshop(room: Room) -> dict[str, Any]:
    ws = room["workshop"]
    return {
        "id": ws["id"], "code": ws["code"], "title": ws["title"], "phase": ws["phase"],
        "locked": ws["locked"], "timer": view_timer(ws["timer"]), "settings": ws["settings"],
        "created_at": ws["created_at"],
    }


def view_participants(room: Room) -> dict[str, Any]:
    return {"count": len(room["participants"]), "online": room.get("online", 0)}


def view_state(room: Room, viewer: Viewer) -> dict[str, Any]:
    """The `state` of a welcome for this viewer."""
    votes = dict(view_votes(room, viewer))
    votes["mine"] = dict(room["ballots"].get(viewer.pid, {})) if viewer.pid else {}
    state: dict[str, Any] = {
        "workshop": view_workshop(room),
        "prompts": room["prompts"],
        "notes": visible_notes(room, viewer),
        "clusters": sorted(room["clusters"].values(), key=lambda c: (c["order"], c["id"])),
        "votes": votes,
        "participants": view_participants(room),
    }
    if viewer.role == "facilitator":
        state["participants"]["list"] = participant_list(room)
        state["participants"]["recent_joins"] = recent_joins(room)
    if viewer.pid:
        me = room["participants"].get(viewer.pid, {})
        state["me"] = {"participant_id": viewer.pid, "name": me.get("name"),
                       "perspective": me.get("perspective")}
    return state


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
    if kind in ("note_added", "note_edited", "note_moderated"):
        note = room["notes"].get(d["note"]["id"])
        if note is None:
            return None
        out: dict[str, Any] | None = None
        if note_visible(room, note, viewer):
            out = {"note_id": note["id"], "hidden": bool(note["hidden"]),
                   "note": view_note(room, note, viewer)}
        elif kind == "note_moderated":
            out = {"note_id": note["id"], "hidden": True}
        if out is not None and kind == "note_moderated":
            # A hidden note is no item: hiding one gives its dots back (removed_items),
            # and the results change for everyone.
            out["removed_items"] = d.get("removed_items", [])
            if out["removed_items"] or note["id"] in room["totals"]:
                out["votes"] = view_votes(room, viewer, cache)
        return out
    if kind == "note_deleted":
        return _refunded(room, d, viewer, cache, {"note_id": d["note_id"]})
    if kind == "cluster_changed":
        return _refunded(room, d, viewer, cache, {
            "cluster": d.get("cluster"), "assign": _filter_assign(room, d["assign"], viewer)})
    if kind == "cluster_deleted":
        return _refunded(room, d, viewer, cache, {
            "cluster_id": d["cluster_id"], "assign": _filter_assign(room, d["assign"], viewer)})
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
    if kind == "participant_removed":
        return _removed(room, d, viewer, cache)
    return dict(d) if staff else None


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

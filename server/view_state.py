"""What each role sees of a room: the viewer, which notes and votes it may see, and the
`state` of its welcome (see server/views.py for the rules, and for events)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from server import results
from server.room import Room, plan_of
from server.rules import REACTIONS
from server.view_participants import (
    participant_list,
    recent_joins,
    shown_perspective,
    view_participants,
)
from server.view_signups import my_sign_ups, sign_up_counts, sign_up_list

# Settings that change which notes or authors a viewer sees.
VISIBILITY_SETTINGS = frozenset({"anonymous", "private_writing", "show_provenance"})
# Settings that change what the wall sees (it gets its notes, or counts, afresh).
WALL_SETTINGS = frozenset({"wall_during_collect"})


@dataclass(frozen=True)
class Viewer:
    role: str
    pid: str | None = None  # a participant's own id; None for the participants' shared view

    def owns(self, note: dict[str, Any]) -> bool:
        return self.pid is not None and note.get("author_id") == self.pid


FACILITATOR = Viewer("facilitator")
PROJECTOR = Viewer("projector")
PARTICIPANTS = Viewer("participant")


def quiet_wall(room: Room, viewer: Viewer) -> bool:
    """Setting wall_during_collect "count": while collecting, the wall gets no note, only
    how many each prompt has (`note_counts`), so that nobody anchors on the first ideas."""
    workshop = room["workshop"]
    return (viewer.role == "projector" and workshop["phase"] == "collect"
            and workshop["settings"].get("wall_during_collect") == "count")


def note_counts(room: Room) -> dict[str, int]:
    """Per prompt, the notes everyone may see (not hidden, not waiting for approval)."""
    counts = {p["id"]: 0 for p in room["prompts"]}
    for n in room["notes"].values():
        if not n["hidden"] and not n.get("pending") and n["prompt_id"] in counts:
            counts[n["prompt_id"]] += 1
    return counts


def note_visible(room: Room, note: dict[str, Any], viewer: Viewer) -> bool:
    if viewer.role == "facilitator" or viewer.owns(note):
        return True
    # A note waiting for approval is its author's and the facilitator's only.
    if note["hidden"] or note.get("pending"):
        return False
    if quiet_wall(room, viewer):
        return False
    workshop = room["workshop"]
    return not (
        viewer.role == "participant"
        and workshop["settings"]["private_writing"]
        and workshop["phase"] == "collect"
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
        "source": note.get("source") or "phone",
        "pending": bool(note.get("pending")),
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
    elif out["source"] == "paper" and (settings.get("show_provenance")
                                       or viewer.role == "facilitator"):
        # A paper card's group as the facilitator typed it: no person behind it to single
        # out. The facilitator always sees it (it typed it, and may correct it).
        out["perspective"] = note.get("perspective")
    out["reactions"] = dict(note.get("reactions") or {})
    if viewer.pid is not None:
        out["my_reactions"] = my_reactions(note, viewer.pid)
    return out


def my_reactions(note: dict[str, Any], pid: str) -> list[str]:
    """The reactions this participant put on the note, in REACTIONS' order (who reacted
    is kept on the note for this and never leaves the server)."""
    reacted = note.get("reacted") or {}
    return [emoji for emoji in REACTIONS if f"{pid}|{emoji}" in reacted]


def visible_notes(room: Room, viewer: Viewer, *, others_only: bool = False) -> list[dict[str, Any]]:
    return [
        view_note(room, n, viewer)
        for n in sorted(room["notes"].values(), key=lambda n: (n["created_at"], n["id"]))
        if note_visible(room, n, viewer) and not (others_only and viewer.owns(n))
    ]


def votes_visible(room: Room, viewer: Viewer) -> bool:
    if viewer.role == "facilitator":
        return True
    workshop = room["workshop"]
    return workshop["phase"] in ("results", "closed") or (
        bool(workshop["settings"]["show_live_votes"]) and workshop["phase"] == "vote"
    )


def public_items(room: Room) -> set[str]:
    """The items that count, for every role, export and report: clusters and visible
    unclustered notes. A hidden note is no item: nothing ranks it (its dots were given
    back when it was hidden; this also keeps out dots stored before that rule)."""
    items = set(room["clusters"])
    items.update(
        nid for nid, n in room["notes"].items()
        if not n["hidden"] and not n.get("cluster_id") and not n.get("pending")
    )
    return items


def view_votes(room: Room, viewer: Viewer, cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """The contract's `votes`, without `mine` (added by the caller for a participant)."""
    cache = {} if cache is None else cache
    if "sign_ups" not in cache:
        cache["sign_ups"] = sign_up_counts(room)
    if not votes_visible(room, viewer):
        if "voters" not in cache:  # once per event, not once per audience
            cache["voters"] = sum(1 for b in room["ballots"].values() if b)
        return {
            "totals": {}, "voters": cache["voters"],
            "by_perspective": {}, "ranking": [], "common_ground": [], "divided": [],
            "sign_ups": dict(cache["sign_ups"]),
        }
    if "votes" not in cache:
        cache["votes"] = results.summary(
            room["ballots"], room["participants"], room["workshop"]["settings"]["perspectives"],
            public_items(room),
        )
    # Every role sees how many offered to help per item, whatever the phase.
    summary: dict[str, Any] = {**cache["votes"], "sign_ups": dict(cache["sign_ups"])}
    return summary


def view_timer(timer: dict[str, Any], now_ms: int | None = None) -> dict[str, Any]:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if timer.get("running") and timer.get("ends_at") is not None:
        return {"running": True, "ends_at": timer["ends_at"],
                "remaining_ms": max(0, int(timer["ends_at"]) - now_ms)}
    return {"running": False, "ends_at": None, "remaining_ms": timer.get("remaining_ms")}


def plan_position(room: Room) -> dict[str, Any]:
    """Where in the session plan the room is (every role): `activities` [{id, title}],
    `activity_id` and `activity_index` (0-based)."""
    plan = plan_of(room)
    current = room["workshop"].get("activity_id") or plan[0]["id"]
    ids = [a["id"] for a in plan]
    return {"activities": [{"id": a["id"], "title": a["title"]} for a in plan],
            "activity_id": current,
            "activity_index": ids.index(current) if current in ids else 0}


def facilitator_plan(room: Room) -> list[dict[str, Any]]:
    """`state.workshop.plan` (the facilitator's): every activity with its questions
    (texts) and phase, also those that are not current."""
    return [{"id": a["id"], "title": a["title"], "prompts": [p["text"] for p in a["prompts"]],
             "phase": a["phase"]} for a in plan_of(room)]


def view_workshop(room: Room) -> dict[str, Any]:
    workshop = room["workshop"]
    return {
        **plan_position(room),
        "id": workshop["id"], "code": workshop["code"], "title": workshop["title"],
        "phase": workshop["phase"], "locked": workshop["locked"],
        "timer": view_timer(workshop["timer"]), "settings": workshop["settings"],
        "created_at": workshop["created_at"],
    }


def view_state(room: Room, viewer: Viewer, cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `state` of a welcome for this viewer. `cache`: the room's figures that do not
    depend on the viewer (vote totals, counts), kept while the room is at the same seq,
    so that a hall of phones joining at once does not count the whole room per phone."""
    cache = {} if cache is None else cache
    votes = dict(view_votes(room, viewer, cache))
    votes["mine"] = dict(room["ballots"].get(viewer.pid, {})) if viewer.pid else {}
    state: dict[str, Any] = {
        "workshop": view_workshop(room),
        "prompts": room["prompts"],
        "notes": visible_notes(room, viewer),
        "clusters": sorted(room["clusters"].values(), key=lambda c: (c["order"], c["id"])),
        "votes": votes,
        "participants": view_participants(room, cache),
    }
    if quiet_wall(room, viewer):
        state["note_counts"] = note_counts(room)
    if viewer.role == "facilitator":
        state["workshop"]["plan"] = facilitator_plan(room)
        state["participants"]["list"] = participant_list(room)
        state["participants"]["recent_joins"] = recent_joins(room)
        state["sign_up_list"] = sign_up_list(room)
    if viewer.pid:
        me = room["participants"].get(viewer.pid, {})
        state["me"] = {"participant_id": viewer.pid, "name": me.get("name"),
                       "perspective": me.get("perspective"), "done": bool(me.get("done"))}
        state["my_sign_ups"] = my_sign_ups(room, viewer.pid)
    return state

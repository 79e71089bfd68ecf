"""A room: the full state of one workshop in memory, and how an event changes it.

The hub keeps one room per workshop that has sockets in this process, built from a
snapshot and kept current by applying the workshop's events in order. Welcome states
and per-role views are cut from it (server/views.py) without asking Redis again.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from server.events import Event


class Room(TypedDict):
    """One workshop's full state (the facilitator's view of everything), as the store
    reads it (Store.load) and apply_event keeps it; views, exports and the fan-out read
    it. A TypedDict, not a class: the shape is the JSON the views and exports cut from."""

    workshop: dict[str, Any]
    prompts: list[Any]
    notes: dict[str, dict[str, Any]]
    clusters: dict[str, dict[str, Any]]
    participants: dict[str, dict[str, Any]]
    ballots: dict[str, dict[str, int]]
    totals: dict[str, int]
    online: int  # participants seen in the last seconds, over every process
    seq: int  # the newest event applied
    # "Ik doe mee": participant id -> {item_id: {"contact": str | None, "at": ms, "seq"}}
    # (absent in rooms made before sign-ups existed: read it with signups_of).
    signups: NotRequired[dict[str, dict[str, dict[str, Any]]]]
    # The session plan: [{"id", "title", "prompts", "phase"}] in order (the current
    # activity's prompts and phase there may lag: `prompts` and workshop.phase are the
    # truth). workshop["activity_id"] names the current one. Absent: one activity.
    plan: NotRequired[list[dict[str, Any]]]


def plan_of(room: Room) -> list[dict[str, Any]]:
    """The session plan with the current activity's prompts and phase as they are now."""
    workshop = room["workshop"]
    current = workshop.get("activity_id") or "a1"
    plan = room.get("plan") or [{"id": current, "title": workshop["title"]}]
    return [{**a, "prompts": room["prompts"], "phase": workshop["phase"]}
            if a["id"] == current else a for a in plan]


def _activity_changed(room: Room, d: dict[str, Any]) -> None:
    """Another activity is current: the room's activity part is replaced by it whole
    (the participants, their profiles and the sign-ups stay)."""
    workshop = room["workshop"]
    workshop.update(activity_id=d["activity_id"], phase=d["phase"], timer=dict(d["timer"]),
                    settings=dict(d["settings"]))
    room["plan"] = [dict(a) for a in d["plan"]]
    room["prompts"] = [dict(p) for p in d["prompts"]]
    room["notes"] = {nid: dict(n) for nid, n in d["notes"].items()}
    room["clusters"] = {cid: dict(c) for cid, c in d["clusters"].items()}
    room["ballots"] = {pid: dict(b) for pid, b in d["ballots"].items()}
    room["totals"] = dict(d["totals"])
    for p in room["participants"].values():
        p.pop("done", None)  # nobody is done in the new activity yet (as ops.lua)


def signups_of(room: Room) -> dict[str, dict[str, dict[str, Any]]]:
    """The room's sign-ups, to read (empty where the room has none: it is not changed)."""
    return room.get("signups") or {}


def _signups(room: Room) -> dict[str, dict[str, dict[str, Any]]]:
    """The room's sign-ups, to change (made where the room has none yet)."""
    return room.setdefault("signups", {})


def remove_items(room: Room, items: list[str]) -> None:
    """Drop every dot on these items (deleted, hidden or merged into a cluster)."""
    if not items:
        return
    gone = set(items)
    for pid in list(room["ballots"]):
        ballot = {i: n for i, n in room["ballots"][pid].items() if i not in gone}
        if ballot:
            room["ballots"][pid] = ballot
        else:
            del room["ballots"][pid]
    for item in gone:
        room["totals"].pop(item, None)


def _assign(room: Room, assign: dict[str, str | None]) -> None:
    for nid, cid in assign.items():
        note = room["notes"].get(nid)
        if note is not None:
            note["cluster_id"] = cid


def apply_event(room: Room, ev: Event) -> None:
    """Apply one stored event to a full room (the facilitator's view of everything)."""
    d = ev.data
    kind = ev.kind
    if kind in ("note_added", "note_edited", "note_moderated", "note_approved"):
        room["notes"][d["note"]["id"]] = dict(d["note"])
        remove_items(room, d.get("removed_items", []))  # a hidden note's dots went back
    elif kind == "note_deleted":
        room["notes"].pop(d["note_id"], None)
        remove_items(room, d.get("removed_items", []))
    elif kind == "cluster_changed":
        cluster = d.get("cluster")
        if cluster:
            room["clusters"][cluster["id"]] = dict(cluster)
        _assign(room, d.get("assign", {}))
        remove_items(room, d.get("removed_items", []))
    elif kind == "cluster_deleted":
        room["clusters"].pop(d["cluster_id"], None)
        _assign(room, d.get("assign", {}))
        remove_items(room, d.get("removed_items", []))
    elif kind == "clusters_merged":
        _merged(room, d)
    elif kind == "signups_changed":
        _signed_up(room, d, ev.seq)
    elif kind == "votes_changed":
        pid, item = d["participant_id"], d["item_id"]
        if d["mine"]:
            room["ballots"][pid] = dict(d["mine"])
        else:
            room["ballots"].pop(pid, None)
        if d["total"] > 0:
            room["totals"][item] = d["total"]
        else:
            room["totals"].pop(item, None)
    elif kind == "phase_changed":
        room["workshop"]["phase"] = d["phase"]
        for p in room["participants"].values():
            p.pop("done", None)  # a new phase: nobody is done in it yet (as ops.lua)
    elif kind == "timer_changed":
        room["workshop"]["timer"] = dict(d["timer"])
    elif kind == "settings_changed":
        room["workshop"]["settings"] = dict(d["settings"])
    elif kind == "participant_changed":
        p = d["participant"]
        room["participants"][p["participant_id"]] = dict(p)
    elif kind == "workshop_changed":
        room["workshop"]["locked"] = bool(d["locked"])
    elif kind == "prompts_changed":
        room["prompts"] = [dict(p) for p in d["prompts"]]
    elif kind == "participant_removed":
        for nid in d["note_ids"]:
            room["notes"].pop(nid, None)
        remove_items(room, d.get("removed_items", []))
        room["ballots"].pop(d["participant_id"], None)
        for item, total in d["totals"].items():
            if total > 0:
                room["totals"][item] = total
            else:
                room["totals"].pop(item, None)
        room["participants"].pop(d["participant_id"], None)
        _unreact(room, d["participant_id"], d.get("reactions", {}))
        _signups(room).pop(d["participant_id"], None)
    elif kind == "participant_done":
        _set_done(room, d)
    elif kind == "activity_changed":
        _activity_changed(room, d)
    elif kind == "plan_changed":
        room["plan"] = [dict(a) for a in d["plan"]]
    elif kind == "note_reacted":
        _react(room, d)
    room["seq"] = max(room["seq"], ev.seq)


def _set_done(room: Room, d: dict[str, Any]) -> None:
    p = room["participants"].get(d["participant_id"])
    if p is not None:
        if d["done"]:
            p["done"] = True
        else:
            p.pop("done", None)


def _unreact(room: Room, pid: str, counts: dict[str, dict[str, int]]) -> None:
    """A removed participant's reactions are gone: the notes' fresh counts."""
    prefix = f"{pid}|"
    for nid, fresh in counts.items():
        note = room["notes"].get(nid)
        if note is not None:
            note["reactions"] = dict(fresh)
            note["reacted"] = {k: v for k, v in (note.get("reacted") or {}).items()
                               if not k.startswith(prefix)}


def _react(room: Room, d: dict[str, Any]) -> None:
    """A reaction on or off: the note's counts, and who reacted (kept for the views'
    my_reactions, never shown), as ops.lua stores them on the note."""
    note = room["notes"].get(d["note_id"])
    if note is None:
        return
    note["reactions"] = dict(d["reactions"])
    reacted = dict(note.get("reacted") or {})
    key = f"{d['participant_id']}|{d['emoji']}"
    if d["on"]:
        reacted[key] = 1
    else:
        reacted.pop(key, None)
    note["reacted"] = reacted


def _merged(room: Room, d: dict[str, Any]) -> None:
    """clusters_merged: notes, dots and sign-ups of `cluster_id` now on `into`."""
    room["clusters"].pop(d["cluster_id"], None)
    room["clusters"][d["into"]["id"]] = dict(d["into"])
    _assign(room, d.get("assign", {}))
    for pid, ballot in d.get("ballots", {}).items():
        room["ballots"][pid] = dict(ballot)
    room["totals"].pop(d["cluster_id"], None)
    if d.get("total", 0) > 0:
        room["totals"][d["into"]["id"]] = d["total"]
    for pid, rec in d.get("signups", {}).items():
        _signups(room)[pid] = dict(rec)


def _signed_up(room: Room, d: dict[str, Any], seq: int) -> None:
    """signups_changed: one participant's offer on one item, made or taken back (`seq`:
    the event's, which the store keeps beside the offer to forget its contact later)."""
    signups = _signups(room)
    rec = signups.setdefault(d["participant_id"], {})
    if d["on"]:
        rec[d["item_id"]] = {"contact": d.get("contact"), "at": d.get("at"), "seq": seq}
    else:
        rec.pop(d["item_id"], None)
    if not rec:
        signups.pop(d["participant_id"], None)


def subject_of(ev: Event) -> str | None:
    """The participant an event is about (author, voter, profile), if any."""
    d = ev.data
    if ev.kind in ("note_added", "note_edited", "note_moderated", "note_approved"):
        author: str | None = d["note"].get("author_id")
        return author
    if ev.kind == "votes_changed":
        pid: str = d["participant_id"]
        return pid
    if ev.kind == "participant_changed":
        who: str = d["participant"]["participant_id"]
        return who
    if ev.kind in ("participant_done", "note_reacted"):
        actor: str = d["participant_id"]
        return actor
    if ev.kind == "signups_changed":
        signer: str = d["participant_id"]
        return signer
    if ev.kind == "note_deleted":
        # A note that waited for approval: its author (also when the facilitator deleted it).
        waited: str | None = d.get("author_id")
        return waited or ev.actor or None
    return None

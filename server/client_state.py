"""A screen's state, and how the events it receives change it: the client's rule.

Pure (no I/O). A screen (phone, wall, control screen) starts from the `state` of its
welcome and applies the events cut for it (docs/protocol.md, "events"). This is the
Python twin of static/js/state.js `applyEvents`, and the one Python copy of the rule: the
tests' protocol client applies events with it. The golden fixtures (tests/golden/) hold
both to what the server sends.
"""

from __future__ import annotations

import copy
from typing import Any


def _drop_items(state: dict[str, Any], items: list[str]) -> None:
    votes = state["votes"]
    for item in items:
        votes["totals"].pop(item, None)
        votes["mine"].pop(item, None)


def _merge(state: dict[str, Any], notes: dict[str, dict[str, Any]], d: dict[str, Any]) -> None:
    """clusters_merged: one cluster fewer, its notes in the other, the fresh votes (the
    dots moved along), our own `mine` where ours moved."""
    clusters = {c["id"]: c for c in state["clusters"] if c["id"] != d["cluster_id"]}
    clusters[d["cluster"]["id"]] = d["cluster"]
    state["clusters"] = sorted(clusters.values(), key=lambda c: (c["order"], c["id"]))
    for nid, cid in d.get("assign", {}).items():
        if nid in notes:
            notes[nid] = {**notes[nid], "cluster_id": cid}
    mine = dict(d["mine"]) if "mine" in d else state["votes"].get("mine", {})
    state["votes"] = {**copy.deepcopy(d["votes"]), "mine": mine}
    _sign_up_lists(state, d)


def _sign_up_lists(state: dict[str, Any], d: dict[str, Any]) -> None:
    if "sign_up_list" in d:
        state["sign_up_list"] = copy.deepcopy(d["sign_up_list"])
    if "my_sign_ups" in d:
        state["my_sign_ups"] = copy.deepcopy(d["my_sign_ups"])


def _activity(state: dict[str, Any], d: dict[str, Any], phone: bool) -> None:
    """activity_changed: replace the activity's part of the state (a phone's notes that
    were cut for all phones carry no my_reactions: it has none on them)."""
    for key in ("workshop", "prompts", "clusters", "participants", "me", "sign_up_list",
                "my_sign_ups"):
        if key in d:
            state[key] = copy.deepcopy(d[key])
    state["notes"] = [{**n, "my_reactions": list(n.get("my_reactions", []))} if phone
                      else dict(n) for n in d["notes"]]
    state["votes"] = {**copy.deepcopy(d["votes"]), "mine": dict(d["votes"].get("mine", {}))}
    if "me" in state and "me" not in d:
        state["me"]["done"] = False   # nobody is done in a new activity yet


def apply_events(state: dict[str, Any], events: list[dict[str, Any]], me: str | None) -> None:
    """Apply events (in seq order) to a screen's state, in place, as docs/protocol.md
    says a client does. `me` is the screen's own participant id (None for staff)."""
    notes = {n["id"]: n for n in state["notes"]}

    def own(note: dict[str, Any]) -> bool:
        author = note.get("author") or {}
        return me is not None and author.get("participant_id") == me

    def put(note: dict[str, Any], before: dict[str, Any] | None) -> None:
        # A note cut for all phones at once has no my_reactions: a phone keeps its own
        # (only its own note_reacted changes them).
        if me is not None and "my_reactions" not in note:
            note = {**note, "my_reactions": list((before or {}).get("my_reactions", []))}
        notes[note["id"]] = note

    def replace_others(fresh: list[dict[str, Any]]) -> None:
        mine = {nid for nid, n in notes.items() if own(n)}
        before = dict(notes)
        for nid in [nid for nid in notes if nid not in mine]:
            del notes[nid]
        for n in fresh:
            if n["id"] not in mine:
                put(n, before.get(n["id"]))

    def set_votes(v: dict[str, Any]) -> None:
        mine = state["votes"].get("mine", {})
        state["votes"] = {**{k: copy.deepcopy(x) for k, x in v.items()}, "mine": mine}

    for ev in events:
        kind, d = ev["kind"], ev["data"]
        workshop = state["workshop"]
        if kind in ("note_deleted", "note_moderated", "cluster_changed",
                    "cluster_deleted") and "votes" in d:
            set_votes(d["votes"])   # dots were given back: fresh results
        if "note_counts" in d:
            # The quiet wall (wall_during_collect "count"): counts per prompt, or null when
            # the wall shows notes again.
            if d["note_counts"] is None:
                state.pop("note_counts", None)
            else:
                state["note_counts"] = d["note_counts"]
        if kind in ("note_added", "note_edited", "note_moderated", "note_approved"):
            if d.get("note") is not None:
                put(d["note"], notes.get(d["note_id"]))
            elif "note_id" in d:
                # Hidden, or waiting for approval again: no longer this screen's to see.
                notes.pop(d["note_id"], None)
            _drop_items(state, d.get("removed_items", []))
        elif kind == "note_deleted":
            notes.pop(d["note_id"], None)
            _drop_items(state, d.get("removed_items", []))
        elif kind in ("cluster_changed", "cluster_deleted"):
            clusters = {c["id"]: c for c in state["clusters"]}
            if kind == "cluster_changed" and d.get("cluster"):
                clusters[d["cluster"]["id"]] = d["cluster"]
            if kind == "cluster_deleted":
                clusters.pop(d["cluster_id"], None)
            state["clusters"] = sorted(clusters.values(), key=lambda c: (c["order"], c["id"]))
            for nid, cid in d.get("assign", {}).items():
                if nid in notes:
                    notes[nid] = {**notes[nid], "cluster_id": cid}
            _drop_items(state, d.get("removed_items", []))
        elif kind == "clusters_merged":
            _merge(state, notes, d)
        elif kind == "signups_changed":
            state["votes"]["sign_ups"] = dict(d["sign_ups"])
            _sign_up_lists(state, d)
        elif kind == "phase_changed":
            workshop["phase"] = d["phase"]
            state["participants"]["done"] = 0   # a new phase: nobody is done in it yet
            if "me" in state:
                state["me"]["done"] = False
            set_votes(d["votes"])
            if "notes" in d:
                replace_others(d["notes"])
        elif kind == "settings_changed":
            workshop["settings"] = d["settings"]
            set_votes(d["votes"])
            if "notes" in d:
                replace_others(d["notes"])
        elif kind == "timer_changed":
            workshop["timer"] = d["timer"]
        elif kind == "votes_changed":
            if "mine" in d:
                state["votes"]["mine"] = dict(d["mine"])
                state["votes"]["voters"] = d["voters"]
                if "totals" in d:
                    set_votes({k: v for k, v in d.items()
                               if k not in ("item_id", "delta", "mine")})
            else:
                set_votes(d)
        elif kind == "participant_changed":
            state["participants"]["count"] = d["count"]
            if "notes" in d:   # a group crossed the small-group size: labels afresh
                replace_others(d["notes"])
            if "list" in d:
                state["participants"]["list"] = d["list"]
            p = d.get("participant")
            if p is not None:
                if me is not None and p["participant_id"] == me:
                    state["me"] = {**{k: p.get(k) for k in ("participant_id", "name",
                                                          "perspective")},
                                   "done": state.get("me", {}).get("done", False)}
                for nid, n in notes.items():   # the author's name on its notes follows
                    author = n.get("author")
                    if author and author.get("participant_id") == p["participant_id"]:
                        notes[nid] = {**n, "author": {**author, "name": p.get("name"),
                                                      "perspective": p.get("perspective")}}
                for row in state.get("sign_up_list", []):   # its name there follows too
                    if row["participant_id"] == p["participant_id"]:
                        row["name"] = p.get("name")
                if "list" in state["participants"]:
                    listed = {x["participant_id"]: x for x in state["participants"]["list"]}
                    listed[p["participant_id"]] = {
                        k: p.get(k) for k in ("participant_id", "name", "perspective",
                                              "joined_at")}
                    state["participants"]["list"] = list(listed.values())
        elif kind == "workshop_changed":
            workshop["locked"] = d["locked"]
        elif kind == "prompts_changed":
            state["prompts"] = [dict(p) for p in d["prompts"]]
        elif kind == "participant_removed":
            for nid in d["note_ids"]:
                notes.pop(nid, None)
            set_votes(d["votes"])
            _drop_items(state, d["removed_items"])   # from `mine` too
            state["participants"]["count"] = d["count"]
            if "participants_done" in d:
                state["participants"]["done"] = d["participants_done"]
            for nid, counts in d.get("reactions", {}).items():   # its reactions are gone
                if nid in notes:
                    notes[nid] = {**notes[nid], "reactions": dict(counts)}
            if "notes" in d:
                replace_others(d["notes"])
            if "sign_up_list" in state and "participant_id" in d:
                state["sign_up_list"] = [x for x in state["sign_up_list"]
                                         if x["participant_id"] != d["participant_id"]]
            if "list" in d:
                state["participants"]["list"] = d["list"]
            elif "list" in state["participants"] and "participant_id" in d:
                state["participants"]["list"] = [
                    x for x in state["participants"]["list"]
                    if x["participant_id"] != d["participant_id"]]
        elif kind == "participant_done":
            state["participants"]["done"] = d["participants_done"]
            if "done" in d and "me" in state:
                state["me"]["done"] = d["done"]
        elif kind == "activity_changed":
            # Another activity: its notes, clusters, votes and questions replace ours.
            _activity(state, d, me is not None)
            notes = {n["id"]: n for n in state["notes"]}
        elif kind == "plan_changed":
            workshop.update({k: copy.deepcopy(v) for k, v in d.items()})
        elif kind == "note_reacted" and d["note_id"] in notes:
            note = {**notes[d["note_id"]], "reactions": dict(d["reactions"])}
            if "my_reactions" in d:
                note["my_reactions"] = list(d["my_reactions"])
            notes[d["note_id"]] = note
    state["notes"] = sorted(notes.values(), key=lambda n: (n["created_at"], n["id"]))

"""The participants as a screen may see them: the count, the facilitator's list, the
joins of the last minute, and a perspective shown only as a group big enough that
nobody is singled out (results.MIN_GROUP)."""

from __future__ import annotations

import time
from typing import Any

from server import results
from server.room import Room


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


def done_count(room: Room) -> int:
    """How many participants said they are done in the current phase."""
    return sum(1 for p in room["participants"].values() if p.get("done"))


def view_participants(room: Room, cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """`cache`: figures of this room at this seq, shared by viewers (see view_state)."""
    cache = {} if cache is None else cache
    if "done" not in cache:
        cache["done"] = done_count(room)
    return {"count": len(room["participants"]), "online": room.get("online", 0),
            "done": cache["done"]}

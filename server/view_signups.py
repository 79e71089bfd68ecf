"""Who sees what of "ik doe mee" (sign_up): every role the number of people per item,
only the facilitator who they are (and a contact where they gave consent), a participant
its own offers. Pure: cut from the room (server/room.py keeps `signups`)."""

from __future__ import annotations

from typing import Any

from server.room import Room, signups_of


def sign_up_counts(room: Room) -> dict[str, int]:
    """`votes.sign_ups`: per item, how many participants offered to help (never who)."""
    counts: dict[str, int] = {}
    for rec in signups_of(room).values():
        for item in rec:
            counts[item] = counts.get(item, 0) + 1
    return counts


def sign_up_list(room: Room) -> list[dict[str, Any]]:
    """The facilitator's `sign_up_list`, in the order the offers came. `contact` is only
    ever stored with consent (server/args.py), so it is null where none was given."""
    rows: list[tuple[int, str, str, dict[str, Any]]] = []
    for pid, rec in signups_of(room).items():
        p = room["participants"].get(pid, {})
        for item, entry in rec.items():
            # The seq of the offer's event: in the order they came, also within one ms.
            rows.append((entry.get("seq") or 0, pid, item, {
                "item_id": item, "participant_id": pid, "name": p.get("name"),
                "contact": entry.get("contact")}))
    return [row[3] for row in sorted(rows, key=lambda r: (r[0], r[1], r[2]))]


def my_sign_ups(room: Room, pid: str) -> dict[str, dict[str, Any]]:
    """A participant's own offers: {item_id: {"contact": str | None}}."""
    rec = signups_of(room).get(pid, {})
    return {item: {"contact": entry.get("contact")} for item, entry in rec.items()}


def view_signups_event(room: Room, d: dict[str, Any], role: str,
                       pid: str | None) -> dict[str, Any]:
    """signups_changed as a viewer sees it: the counts; the facilitator also the list,
    the participant who signed (or withdrew) also its own offers."""
    out: dict[str, Any] = {"sign_ups": sign_up_counts(room)}
    if role == "facilitator":
        out["sign_up_list"] = sign_up_list(room)
    elif pid is not None and pid == d["participant_id"]:
        out["my_sign_ups"] = my_sign_ups(room, pid)
    return out

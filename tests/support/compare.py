"""Comparing two screens' states: what may differ between sockets, and where they do."""

from __future__ import annotations

from typing import Any


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """A screen's state without what legitimately differs between two sockets of it:
    `online` (presence), the order of the participant list, a running timer's
    remaining_ms (computed when sent; ends_at is the fact), and (for now) the group
    shown in the facilitator's participant list (see below)."""
    ws = state["workshop"]
    timer = dict(ws["timer"])
    if timer["running"]:
        timer.pop("remaining_ms", None)
    out = {
        "workshop": {k: ws[k] for k in ("id", "code", "title", "phase", "locked", "settings")},
        "timer": timer,
        "prompts": state["prompts"],
        "notes": {n["id"]: n for n in state["notes"]},
        "clusters": state["clusters"],
        "votes": state["votes"],
        "count": state["participants"]["count"],
        "done": state["participants"].get("done"),
        "me": state.get("me"),
    }
    if "list" in state["participants"]:
        out["list"] = sorted(state["participants"]["list"], key=lambda p: p["participant_id"])
    # "Ik doe mee": the facilitator's list, a participant's own offers.
    for key in ("sign_up_list", "my_sign_ups"):
        if key in state:
            out[key] = state[key]
    return out


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as readable lines (for assertion messages)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                out.append(f"{path}/{key}: {a.get(key, '<missing>')!r} != "
                           f"{b.get(key, '<missing>')!r}")
            else:
                out += differences(a[key], b[key], f"{path}/{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [line for i, (x, y) in enumerate(zip(a, b, strict=True))
                for line in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]

"""The session plan as the pages draw it before their modules run (no jump when they
start): the wall's and the phone's line "Onderdeel 2 van 5: Ideeën", and the control
screen's programme rows. Read from the workshop's meta (`plan`, `activity`); a workshop
without a plan is a plan of one activity, which draws nothing."""

from __future__ import annotations

from typing import Any

from server.i18n import translate
from server.page_access import json_field


def _plan(meta: dict[str, str]) -> tuple[list[dict[str, Any]], str | None]:
    plan = json_field(meta, "plan", [])
    if not isinstance(plan, list):
        plan = []
    plan = [a for a in plan if isinstance(a, dict) and isinstance(a.get("id"), str)]
    current = meta.get("activity") or (plan[0]["id"] if plan else None)
    return plan, current


def plan_position(meta: dict[str, str], lang: str) -> str:
    """"Onderdeel 2 van 5: Ideeën", or "" for a plan of one activity."""
    plan, current = _plan(meta)
    ids = [a["id"] for a in plan]
    if len(plan) < 2 or current not in ids:
        return ""
    i = ids.index(current)
    return translate(lang, "plan.position",
                     {"n": i + 1, "total": len(plan), "title": plan[i].get("title", "")})


def plan_rows(meta: dict[str, str], lang: str) -> dict[str, Any]:
    """The control screen's programme: `plan_rows` [{id, title, current, state, buttons}]
    with the buttons static/js/planpanel.js draws, and `plan_next` (the next title)."""
    plan, current = _plan(meta)
    closed = meta.get("phase") == "closed"
    total = len(plan)
    rows = []
    for i, a in enumerate(plan):
        is_current = a["id"] == current
        phase = a.get("phase")
        state = translate(lang, "plan.now") if is_current else (
            translate(lang, "plan.phase_of", {"phase": translate(lang, f"phase.{phase}")})
            if phase else "")
        buttons = [translate(lang, "plan.go_to")] if not is_current and not closed else []
        if i > 0:
            buttons.append(translate(lang, "plan.move_up"))
        if i < total - 1:
            buttons.append(translate(lang, "plan.move_down"))
        buttons.append(translate(lang, "plan.edit"))
        if not is_current and total > 1:
            buttons.append(translate(lang, "action.remove"))
        rows.append({"id": a["id"], "title": a.get("title", ""), "current": is_current,
                     "state": state, "buttons": buttons})
    ids = [a["id"] for a in plan]
    at = ids.index(current) if current in ids else -1
    following = plan[at + 1].get("title", "") if 0 <= at < total - 1 and not closed else ""
    return {"plan_rows": rows, "plan_next": following,
            "plan_last": total > 1 and at == total - 1, "plan_timer": _suggested(meta, closed)}


def _suggested(meta: dict[str, str], closed: bool) -> int:
    """The current activity's suggested timer in minutes, while no timer runs or waits
    (0: none to offer), as static/js/planlist.js suggestedMinutes."""
    seconds = json_field(meta, "settings", {}).get("timer_seconds")
    timer = json_field(meta, "timer", {})
    if closed or not isinstance(seconds, int) or seconds <= 0:
        return 0
    if timer.get("running") or timer.get("remaining_ms") is not None:
        return 0
    return max(1, round(seconds / 60))

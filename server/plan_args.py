"""A session plan as a client sends it: the body of a new workshop (version 1, a
template, a list of activities or a downloaded plan file) and the plan ops' arguments,
cleaned into the shape the store's script expects. Pure.

Every refusal names the problem (server/locales/errors.*.json): `too_many_activities`,
`no_prompts` (an activity without questions), `unknown_template`, `bad_plan` (not a plan
of ours: wrong format, version or shape).
"""

from __future__ import annotations

from typing import Any

from server.errors import DomainError
from server.language import pick_language
from server.plan_templates import template
from server.room import Room
from server.rules import (
    DEFAULT_SETTINGS,
    MAX_ACTIVITIES,
    MAX_ID,
    MAX_PROMPT,
    MAX_PROMPTS,
    MAX_TITLE,
    WIDE_SETTINGS,
)
from server.text import clean_text
from server.workshop_settings import clean_settings

PLAN_FORMAT = "samenspel-plan"
PLAN_VERSION = 1
PLAN_OPS = ("set_activity", "add_activity", "edit_activity", "remove_activity",
            "move_activity")


def _title(value: object) -> str:
    return clean_text(value, "title", MAX_TITLE, empty_code="title_required")


def clean_prompt_texts(value: object, *, code: str = "no_prompts") -> list[str]:
    """An activity's questions: 1 to MAX_PROMPTS, each text (`code` when there are none)."""
    if not isinstance(value, list) or not value:
        raise DomainError(code)
    if len(value) > MAX_PROMPTS:
        # (Version 1 said prompts_required for this too: it keeps saying so.)
        raise DomainError(code if code == "prompts_required" else "too_many_prompts",
                          max=MAX_PROMPTS)
    return [clean_text(p, "prompt", MAX_PROMPT, empty_code=code) for p in value]


def _activity(raw: object, session: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise DomainError("bad_plan")
    own = raw.get("settings")
    own = {} if own is None else own
    if not isinstance(own, dict):
        raise DomainError("bad_plan")
    settings = {**session, **clean_settings(own, session)}
    for key in WIDE_SETTINGS:  # the session's, in every activity
        settings[key] = session[key]
    return {"title": _title(raw.get("title")), "prompts": clean_prompt_texts(raw.get("prompts")),
            "settings": settings}


def clean_workshop(body: object, lang: str = "nl") -> dict[str, Any]:
    """The body of POST /api/workshops, cleaned: title, the first activity's prompts and
    settings (as version 1 has them), and `activities` (1 to MAX_ACTIVITIES, each with
    title, prompts and full settings). A version 1 body is a plan of one activity."""
    if not isinstance(body, dict):
        raise DomainError("malformed")
    if "format" in body or "version" in body:
        if body.get("format") != PLAN_FORMAT or body.get("version") != PLAN_VERSION:
            raise DomainError("bad_plan")
    if "template" in body:
        chosen = template(body["template"], lang)
        title = _title(body["title"]) if body.get("title") else chosen["title"]
        raw_settings: object = {"language": pick_language(lang), **(body.get("settings") or {})}
        activities: object = chosen["activities"]
    elif "activities" in body:
        title = _title(body.get("title"))
        raw_settings = body.get("settings") or {}
        activities = body["activities"]
        if not isinstance(activities, list) or not activities:
            raise DomainError("bad_plan")
        if len(activities) > MAX_ACTIVITIES:
            raise DomainError("too_many_activities", max=MAX_ACTIVITIES)
    else:
        title = _title(body.get("title"))
        prompts = clean_prompt_texts(body.get("prompts"), code="prompts_required")
        settings = {**DEFAULT_SETTINGS, **clean_settings(body.get("settings") or {})}
        return {"title": title, "prompts": prompts, "settings": settings,
                "activities": [{"title": title, "prompts": prompts, "settings": settings}]}
    if not isinstance(raw_settings, dict):
        raise DomainError("bad_setting", field="settings")
    session = {**DEFAULT_SETTINGS, **clean_settings(raw_settings)}
    assert isinstance(activities, list)
    clean = [_activity(a, session) for a in activities]
    return {"title": title, "prompts": clean[0]["prompts"], "settings": clean[0]["settings"],
            "activities": clean}


def _activity_id(args: dict[str, Any], field: str) -> str:
    value = args.get(field)
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        raise DomainError("bad_args", field=field)
    return value


def clean_plan_args(op: str, args: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a plan op (set_activity, add/edit/remove/move_activity)."""
    if op in ("set_activity", "remove_activity"):
        return {"activity_id": _activity_id(args, "activity_id")}
    if op == "add_activity":
        own = args.get("settings") or {}
        after = args.get("after")
        clean = clean_settings(own, settings)
        for key in WIDE_SETTINGS:
            clean.pop(key, None)
        return {"title": _title(args.get("title")), "prompts": clean_prompt_texts(args.get(
            "prompts")), "settings": clean,
            "after": None if after is None else _activity_id(args, "after")}
    if op == "edit_activity":
        out: dict[str, Any] = {"activity_id": _activity_id(args, "activity_id")}
        if args.get("title") is not None:
            out["title"] = _title(args["title"])
        if args.get("prompts") is not None:
            out["prompts"] = clean_prompt_texts(args["prompts"])
        return out
    if op == "move_activity":
        to = args.get("to")
        if isinstance(to, bool) or not isinstance(to, int) or not 0 <= to < MAX_ACTIVITIES:
            raise DomainError("bad_args", field="to")
        return {"activity_id": _activity_id(args, "activity_id"), "to": to}
    raise DomainError("unknown_op", op=str(op)[:40])


def plan_file(room: Room, plan: list[dict[str, Any]],
              settings: list[dict[str, Any]]) -> dict[str, Any]:
    """A session's plan as a file to keep and start from again (GET /f/{id}/plan.json):
    titles, questions and settings, never a note, name, id, code or key."""
    return {"format": PLAN_FORMAT, "version": PLAN_VERSION, "title": room["workshop"]["title"],
            "settings": {k: room["workshop"]["settings"][k] for k in WIDE_SETTINGS},
            "activities": [{"title": a["title"], "prompts": [p["text"] for p in a["prompts"]],
                            "settings": {k: v for k, v in s.items() if k not in WIDE_SETTINGS}}
                           for a, s in zip(plan, settings, strict=True)]}

"""What a client sends, in the shape the store's scripts expect: an op's arguments, and
the body of a new workshop. Whether the op is allowed now (role, phase, what exists) is
checked elsewhere: the role in server/rules.py, the rest inside server/lua/ops.lua.
"""

from __future__ import annotations

from typing import Any

from server.errors import DomainError
from server.plan_args import PLAN_OPS, clean_plan_args, clean_workshop
from server.rules import (
    MAX_CLUSTER_TITLE,
    MAX_CONTACT,
    MAX_ID,
    MAX_IDS,
    MAX_NAME,
    MAX_PROMPT,
    MAX_THEMES,
    MAX_TIMER_SECONDS,
    PHASES,
    REACTIONS,
)
from server.text import clean_text
from server.workshop_settings import clean_int, clean_settings

# clean_workshop (the body of a new workshop) lives with the session plan it now is.
__all__ = ["clean_args", "clean_sign_up", "clean_workshop"]


def _id(args: dict[str, Any], field: str) -> str:
    value = args.get(field)
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        raise DomainError("bad_args", field=field)
    return value


def _ids(args: dict[str, Any], field: str) -> list[str]:
    value = args.get(field)
    if not isinstance(value, list) or not value or len(value) > MAX_IDS:
        raise DomainError("bad_args", field=field)
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item or len(item) > MAX_ID:
            raise DomainError("bad_args", field=field)
        if item not in out:
            out.append(item)
    return out


def _bool(args: dict[str, Any], field: str) -> bool:
    value = args.get(field)
    if not isinstance(value, bool):
        raise DomainError("bad_args", field=field)
    return value


def _activity(args: dict[str, Any]) -> dict[str, Any]:
    """A note's optional `activity_id` (a session plan): the activity it was written for;
    the store refuses it (`wrong_activity`) once the room has moved on."""
    if args.get("activity_id") is None:
        return {}
    return {"activity_id": _id(args, "activity_id")}


def _prompt_text(args: dict[str, Any]) -> str:
    """A question's new text (add_prompt, edit_prompt): not empty, at most MAX_PROMPT,
    refused with words about the question (not the title, as a long one is at creation)."""
    try:
        return clean_text(args.get("text"), "text", MAX_PROMPT, empty_code="prompt_empty")
    except DomainError as err:
        if err.code == "title_too_long":
            raise DomainError("prompt_too_long", max=MAX_PROMPT) from None
        raise


def clean_sign_up(args: dict[str, Any]) -> dict[str, Any]:
    """sign_up's args. A contact is kept only with consent: without it, it is dropped here,
    before it reaches the store (docs/security.md, "Contacts")."""
    on = _bool(args, "on")
    consent = args.get("consent", False)
    if not isinstance(consent, bool):
        raise DomainError("bad_args", field="consent")
    raw = args.get("contact")
    contact = None
    if raw is not None:
        # Checked even when it is then dropped: a contact over 200 is an error either way.
        contact = clean_text(raw, "contact", MAX_CONTACT, empty_code=None) or None
    return {"item_id": _id(args, "item_id"), "on": on,
            "contact": contact if (on and consent) else None}


def _opt_id(args: dict[str, Any], field: str) -> str | None:
    return None if args.get(field) is None else _id(args, field)


def clean_themes(args: dict[str, Any]) -> dict[str, Any]:
    """apply_themes' args: 1 to MAX_THEMES themes, each with a title (up to 80, may be
    empty), 1 to 500 note ids and an optional existing cluster_id; a note in one theme
    only, and not more than 500 notes in all."""
    themes = args.get("themes")
    if not isinstance(themes, list) or not 1 <= len(themes) <= MAX_THEMES:
        raise DomainError("bad_args", field="themes")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for theme in themes:
        if not isinstance(theme, dict):
            raise DomainError("bad_args", field="themes")
        title = theme.get("title")
        ids = _ids(theme, "note_ids")
        if seen & set(ids) or len(seen) + len(ids) > MAX_IDS:
            raise DomainError("bad_args", field="note_ids")
        seen.update(ids)
        out.append({
            "title": "" if title is None else clean_text(title, "title", MAX_CLUSTER_TITLE,
                                                         empty_code=None),
            "note_ids": ids,
            "cluster_id": _opt_id(theme, "cluster_id"),
        })
    return {"themes": out}


def clean_sorting(op: str, args: dict[str, Any], max_note: int) -> dict[str, Any]:
    """The sorting help's args (version 1.1): suggest_themes, apply_themes, undo_themes,
    similar_notes."""
    if op == "suggest_themes":
        return {"prompt_id": _opt_id(args, "prompt_id")}
    if op == "apply_themes":
        return clean_themes(args)
    if op == "undo_themes":
        return {"undo_id": _id(args, "undo_id")}
    # similar_notes: the text as a note would be cleaned (an empty one is refused).
    return {"prompt_id": _opt_id(args, "prompt_id"),
            "text": clean_text(args.get("text"), "note", max_note, empty_code="note_empty")}


def clean_args(op: str, args: object, settings: dict[str, Any]) -> dict[str, Any]:
    """Check the shape of an op's arguments and return them cleaned."""
    if not isinstance(args, dict):
        raise DomainError("bad_args", field="args")
    max_note = int(settings.get("max_note_length", 280))
    if op == "add_note":
        return {
            "prompt_id": _id(args, "prompt_id"),
            "text": clean_text(args.get("text"), "note", max_note, empty_code="note_empty"),
            **_activity(args),
        }
    if op == "edit_note":
        return {
            "note_id": _id(args, "note_id"),
            "text": clean_text(args.get("text"), "note", max_note, empty_code="note_empty"),
        }
    if op in ("delete_note",):
        return {"note_id": _id(args, "note_id")}
    if op == "moderate_note":
        return {"note_id": _id(args, "note_id"), "hidden": _bool(args, "hidden")}
    if op == "add_paper_note":
        perspective = args.get("perspective")
        if perspective is not None and perspective not in settings.get("perspectives", []):
            raise DomainError("bad_perspective")
        return {
            "prompt_id": _id(args, "prompt_id"),
            "text": clean_text(args.get("text"), "note", max_note, empty_code="note_empty"),
            "perspective": perspective,
            **_activity(args),
        }
    if op == "approve_notes":
        return {"note_ids": _ids(args, "note_ids")}
    if op == "set_profile":
        out: dict[str, Any] = {}
        if "name" in args:
            name = args["name"]
            clean = None if name is None else clean_text(name, "name", MAX_NAME, empty_code=None)
            out["name"] = clean or None
        if "perspective" in args:
            p = args["perspective"]
            if p is not None and p not in settings.get("perspectives", []):
                raise DomainError("bad_perspective")
            out["perspective"] = p
        if not out:
            raise DomainError("bad_args", field="name")
        return out
    if op == "vote":
        delta = args.get("delta")
        if isinstance(delta, bool) or delta not in (1, -1):
            raise DomainError("bad_args", field="delta")
        return {"item_id": _id(args, "item_id"), "delta": 1 if delta == 1 else -1}
    if op == "set_phase":
        phase = args.get("phase")
        if phase not in PHASES:
            raise DomainError("bad_args", field="phase")
        return {"phase": phase}
    if op == "timer":
        action = args.get("action")
        if action not in ("start", "pause", "resume", "reset"):
            raise DomainError("bad_args", field="action")
        if action == "start":
            seconds = clean_int(args.get("seconds"), "seconds", 1, MAX_TIMER_SECONDS)
            return {"action": action, "seconds": seconds}
        return {"action": action}
    if op == "cluster":
        cid = args.get("cluster_id")
        if cid is not None:
            cid = _id(args, "cluster_id")
        out = {"note_ids": _ids(args, "note_ids"), "cluster_id": cid}
        if args.get("title") is not None:
            out["title"] = clean_text(args["title"], "title", MAX_CLUSTER_TITLE, empty_code=None)
        return out
    if op == "uncluster":
        return {"note_ids": _ids(args, "note_ids")}
    if op == "rename_cluster":
        return {
            "cluster_id": _id(args, "cluster_id"),
            "title": clean_text(args.get("title"), "title", MAX_CLUSTER_TITLE, empty_code=None),
        }
    if op == "delete_cluster":
        return {"cluster_id": _id(args, "cluster_id")}
    if op == "merge_clusters":
        return {"cluster_id": _id(args, "cluster_id"), "into_id": _id(args, "into_id")}
    if op == "sign_up":
        return clean_sign_up(args)
    if op == "update_settings":
        return clean_settings(args, settings)
    if op == "set_lock":
        return {"locked": _bool(args, "locked")}
    if op == "remove_participant":
        return {"participant_id": _id(args, "participant_id")}
    if op == "hide_participant_notes":
        return {"participant_id": _id(args, "participant_id"), "hidden": _bool(args, "hidden")}
    if op == "set_done":
        return {"done": _bool(args, "done")}
    if op == "react":
        emoji = args.get("emoji")
        if not isinstance(emoji, str) or emoji not in REACTIONS:
            raise DomainError("bad_reaction", choices=" ".join(REACTIONS))
        return {"note_id": _id(args, "note_id"), "emoji": emoji, "on": _bool(args, "on")}
    if op == "add_prompt":
        return {"text": _prompt_text(args)}
    if op == "edit_prompt":
        return {"prompt_id": _id(args, "prompt_id"), "text": _prompt_text(args)}
    if op in ("suggest_themes", "apply_themes", "undo_themes", "similar_notes"):
        return clean_sorting(op, args, max_note)
    if op in PLAN_OPS:
        return clean_plan_args(op, args, settings)
    raise DomainError("unknown_op", op=str(op)[:40])

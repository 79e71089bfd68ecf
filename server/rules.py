"""The rules of a workshop, without I/O: phases, who may do what, and valid arguments.

Everything here is plain Python, tested in milliseconds. The Redis scripts apply the
same rules atomically (they re-check what depends on the stored state: phase, ownership,
budgets); this module turns a client's raw arguments into clean ones or a DomainError.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any, Final

from server.errors import DomainError
from server.language import DEFAULT_LANGUAGE, LANGUAGES

PHASES: Final = ("collect", "cluster", "vote", "results", "closed")
ROLES: Final = ("participant", "facilitator", "projector")

DEFAULT_SETTINGS: Final[dict[str, Any]] = {
    "anonymous": True,
    "votes_per_participant": 5,
    "max_votes_per_item": 3,
    "max_note_length": 280,
    "perspectives": [],
    "show_live_votes": False,
    "private_writing": False,
    "language": DEFAULT_LANGUAGE,
    # Extensions (docs/protocol.md): the author's perspective as a label on the wall, and
    # the dots per perspective on the wall in the results phase.
    "show_provenance": False,
    "show_groups_on_wall": False,
    # A locked room also refuses notes and dots from participants who have posted
    # neither yet (accounts made in advance to flood it later): docs/protocol.md.
    "lock_silent": False,
}

MAX_TITLE = 120
MAX_PROMPT = 200
MAX_PROMPTS = 6
MAX_NAME = 40
MAX_PERSPECTIVE = 40
MAX_PERSPECTIVES = 8
MAX_CLUSTER_TITLE = 80
MAX_IDS = 500
MAX_ID = 64
MAX_TIMER_SECONDS = 24 * 3600

# Bounds on what one workshop stores, whatever its clients send (the Lua script gets them
# from server/store.py; a deployment may change them, see server/config.py).
# Notes one participant has at a time, and notes in one workshop: `too_many_notes`.
NOTES_PER_PARTICIPANT = 200
NOTES_PER_WORKSHOP = 5000
# Op answers kept for resends: a resend comes from a phone that lost its connection, so
# only while it may still come back (a day) and only its latest ones (what was in flight).
ANSWER_TTL_MS = 24 * 3600 * 1000
ANSWERS_PER_ACTOR = 100

# Which role may send which op. Phase and ownership are checked against the state.
OPS: Final[dict[str, frozenset[str]]] = {
    "add_note": frozenset({"participant"}),
    "edit_note": frozenset({"participant", "facilitator"}),
    "delete_note": frozenset({"participant", "facilitator"}),
    "set_profile": frozenset({"participant"}),
    "vote": frozenset({"participant"}),
    "set_phase": frozenset({"facilitator"}),
    "timer": frozenset({"facilitator"}),
    "moderate_note": frozenset({"facilitator"}),
    "cluster": frozenset({"facilitator"}),
    "uncluster": frozenset({"facilitator"}),
    "rename_cluster": frozenset({"facilitator"}),
    "delete_cluster": frozenset({"facilitator"}),
    "update_settings": frozenset({"facilitator"}),
    "set_lock": frozenset({"facilitator"}),
    "remove_participant": frozenset({"facilitator"}),
    "hide_participant_notes": frozenset({"facilitator"}),
}

# Characters that are never meaningful in a note: C0/C1 controls other than newline and tab.
_CONTROL_OK = {"\n", "\t"}
# Removed too: lone surrogates (not text), and bidi embeddings, overrides and isolates,
# which can reorder what a shared screen shows around the note ("Trojan Source");
# right-to-left text needs none of them.
_DROP_CATEGORIES = ("Cc", "Cs")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Invisible formatting (category Cf: zero-width space, word joiner, BOM, tag characters
# that can smuggle hidden text, ...) is removed, except what writing needs: the joiners
# ZWNJ/ZWJ between two characters (Persian, Indic scripts, emoji sequences such as
# 👩‍💻) and the direction marks LRM, RLM and ALM (mixed right-to-left text).
_JOINERS = frozenset("\u200c\u200d")
_CF_KEPT = frozenset("\u200e\u200f\u061c") | _JOINERS
# Tag characters are kept only where they make a flag (🏴 + tag letters + cancel tag,
# e.g. Scotland): a few letters that show as that flag, nothing hidden.
_BLACK_FLAG = "\U0001f3f4"
_TAG_CANCEL = "\U000e007f"
_FLAG_TAGS = frozenset(chr(0xE0030 + i) for i in range(10)) | frozenset(
    chr(0xE0061 + i) for i in range(26))
_MAX_FLAG_TAGS = 6
# What shows nothing on a screen: spaces and separators, combining marks on their own,
# formatting, and the letters and symbols that are drawn blank (Hangul fillers, the
# braille blank). A text with none but these is empty.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Mn", "Me", "Cf", "Cc", "Cs"})
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _visible(ch: str) -> bool:
    return not (
        ch.isspace() or ch in _BLANKS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES
    )


def _flag_tags(text: str, start: int) -> int:
    """The length of a flag's tag sequence at text[start:] (just after 🏴), else 0."""
    end = start
    while end < len(text) and text[end] in _FLAG_TAGS and end - start < _MAX_FLAG_TAGS:
        end += 1
    if end > start and end < len(text) and text[end] == _TAG_CANCEL:
        return end + 1 - start
    return 0


def _without_formatting(text: str) -> str:
    """Text without invisible formatting (see _CF_KEPT and _FLAG_TAGS for what stays)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == _BLACK_FLAG:
            n = _flag_tags(text, i + 1)
            out.append(text[i:i + 1 + n])
            i += 1 + n
            continue
        if unicodedata.category(ch) == "Cf":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            keep = ch in _CF_KEPT
            if ch in _JOINERS:
                # Only between two characters that are not spaces nor formatting: a
                # joiner anywhere else joins nothing.
                keep = bool(out) and not out[-1].isspace() and out[-1] not in _JOINERS \
                    and bool(nxt) and not nxt.isspace() and unicodedata.category(nxt) != "Cf"
            if not keep:
                i += 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def may(role: str, op: str) -> bool:
    """True when `role` may send `op` at all (whatever the phase)."""
    return role in OPS.get(op, frozenset())


def clean_text(value: object, field: str, max_len: int, *, empty_code: str | None) -> str:
    """Text as we store it: NFC, controls removed, trimmed, within max_len code points;
    text without a visible character is empty."""
    if not isinstance(value, str):
        raise DomainError("bad_args", field=field)
    text = unicodedata.normalize("NFC", value)
    text = "".join(
        ch for ch in text
        if ch in _CONTROL_OK
        or (unicodedata.category(ch) not in _DROP_CATEGORIES and ch not in _BIDI_CONTROLS)
    )
    text = _without_formatting(text).strip()
    if not any(_visible(ch) for ch in text):
        text = ""  # only spaces, marks, fillers and formatting: nothing shows, so empty
    if not text and empty_code:
        raise DomainError(empty_code)
    if len(text) > max_len:
        code = {"note": "note_too_long", "name": "name_too_long"}.get(field, "title_too_long")
        if field == "note":
            raise DomainError(code, max=max_len)
        raise DomainError(code, max=max_len)
    return text


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


def _int(value: object, field: str, lo: int, hi: int, code: str = "bad_args") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return _int(int(value), field, lo, hi, code)
        raise DomainError(code, field=field)
    return value


def clean_settings(raw: object, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate a (partial) settings object; returns only the keys given, cleaned."""
    if not isinstance(raw, dict):
        raise DomainError("bad_setting", field="settings")
    base = {**DEFAULT_SETTINGS, **(current or {})}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in DEFAULT_SETTINGS:
            raise DomainError("bad_setting", field=str(key)[:40])
        if isinstance(DEFAULT_SETTINGS[key], bool):
            if not isinstance(value, bool):
                raise DomainError("bad_setting", field=key)
            out[key] = value
        elif key == "votes_per_participant":
            out[key] = _int(value, key, 1, 100, "bad_setting")
        elif key == "max_votes_per_item":
            out[key] = _int(value, key, 1, 100, "bad_setting")
        elif key == "max_note_length":
            out[key] = _int(value, key, 10, 1000, "bad_setting")
        elif key == "language":
            if value not in LANGUAGES:
                raise DomainError("bad_setting", field=key)
            out[key] = value
        elif key == "perspectives":
            if not isinstance(value, list) or len(value) > MAX_PERSPECTIVES:
                raise DomainError("bad_setting", field=key)
            names: list[str] = []
            for name in value:
                try:
                    clean = clean_text(
                        name, "perspectives", MAX_PERSPECTIVE, empty_code="bad_setting"
                    )
                except DomainError:
                    # Not text, empty or too long: one code for every bad setting.
                    raise DomainError("bad_setting", field=key) from None
                if clean.casefold() == "other" or clean in names:
                    raise DomainError("bad_setting", field=key)
                names.append(clean)
            out[key] = names
    merged = {**base, **out}
    if merged["max_votes_per_item"] > merged["votes_per_participant"]:
        if "max_votes_per_item" in out:
            raise DomainError("bad_setting", field="max_votes_per_item")
        out["max_votes_per_item"] = merged["votes_per_participant"]
    return out


def clean_workshop(body: object) -> dict[str, Any]:
    """The body of POST /api/workshops, cleaned: title, prompts and full settings."""
    if not isinstance(body, dict):
        raise DomainError("malformed")
    title = clean_text(body.get("title"), "title", MAX_TITLE, empty_code="title_required")
    prompts = body.get("prompts")
    if not isinstance(prompts, list) or not 1 <= len(prompts) <= MAX_PROMPTS:
        raise DomainError("prompts_required")
    clean_prompts = [
        clean_text(p, "prompt", MAX_PROMPT, empty_code="prompts_required") for p in prompts
    ]
    settings = {**DEFAULT_SETTINGS, **clean_settings(body.get("settings") or {})}
    return {"title": title, "prompts": clean_prompts, "settings": settings}


def clean_args(op: str, args: object, settings: dict[str, Any]) -> dict[str, Any]:
    """Check the shape of an op's arguments and return them cleaned."""
    if not isinstance(args, dict):
        raise DomainError("bad_args", field="args")
    max_note = int(settings.get("max_note_length", 280))
    if op == "add_note":
        return {
            "prompt_id": _id(args, "prompt_id"),
            "text": clean_text(args.get("text"), "note", max_note, empty_code="note_empty"),
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
            seconds = _int(args.get("seconds"), "seconds", 1, MAX_TIMER_SECONDS)
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
    if op == "update_settings":
        return clean_settings(args, settings)
    if op == "set_lock":
        return {"locked": _bool(args, "locked")}
    if op == "remove_participant":
        return {"participant_id": _id(args, "participant_id")}
    if op == "hide_participant_notes":
        return {"participant_id": _id(args, "participant_id"), "hidden": _bool(args, "hidden")}
    raise DomainError("unknown_op", op=str(op)[:40])


def check_vote(
    ballot: dict[str, int], item_id: str, delta: int, settings: dict[str, Any]
) -> dict[str, int]:
    """The ballot after one vote, or DomainError when a limit would break.

    Limits: never more than votes_per_participant in all, never more than
    max_votes_per_item on one item, never below zero. The Lua vote script applies
    exactly this rule inside Redis.
    """
    current = ballot.get(item_id, 0)
    if delta > 0:
        if sum(ballot.values()) + delta > int(settings["votes_per_participant"]):
            raise DomainError("no_votes_left")
        if current + delta > int(settings["max_votes_per_item"]):
            raise DomainError("item_full", max=settings["max_votes_per_item"])
    elif current + delta < 0:
        raise DomainError("no_vote_to_remove")
    after = dict(ballot)
    if current + delta:
        after[item_id] = current + delta
    else:
        after.pop(item_id, None)
    return after


# The phase in which an op that depends on the phase is allowed ("" = any but closed).
OP_PHASE: Final[dict[str, str]] = {"add_note": "collect", "vote": "vote"}

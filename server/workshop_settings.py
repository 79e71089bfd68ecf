"""A workshop's settings as a client may send them (on creation, or to change them):
each key known, each value of its kind and within its range, and the two vote limits
kept in step (never more dots on one item than in all)."""

from __future__ import annotations

import math
from typing import Any

from server.errors import DomainError
from server.language import LANGUAGES
from server.rules import (
    DEFAULT_SETTINGS,
    MAX_PERSPECTIVE,
    MAX_PERSPECTIVES,
    MAX_TIMER_SECONDS,
    WALL_MODES,
)
from server.text import clean_text


def clean_int(value: object, field: str, lo: int, hi: int, code: str = "bad_args") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return clean_int(int(value), field, lo, hi, code)
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
            out[key] = clean_int(value, key, 1, 100, "bad_setting")
        elif key == "max_votes_per_item":
            out[key] = clean_int(value, key, 1, 100, "bad_setting")
        elif key == "max_note_length":
            out[key] = clean_int(value, key, 10, 1000, "bad_setting")
        elif key == "language":
            if value not in LANGUAGES:
                raise DomainError("bad_setting", field=key)
            out[key] = value
        elif key == "wall_during_collect":
            if value not in WALL_MODES:
                raise DomainError("bad_setting", field=key)
            out[key] = value
        elif key == "timer_seconds":
            out[key] = None if value is None else clean_int(
                value, key, 1, MAX_TIMER_SECONDS, "bad_setting")
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

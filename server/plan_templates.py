"""Session plan templates: proven formats a facilitator starts from, as data files
(server/plans/<id>.json, one per template, with Dutch and English text).

A template file is `{"id", "nl": {title, description, activities}, "en": {...}}`; an
activity is `{"title", "prompts": [str], "settings"?: {...}}`. Pure: the files ship with
the package (pyproject package-data) and are read once.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from server.errors import DomainError
from server.language import pick_language

FOLDER = "plans"


@cache
def template_ids() -> tuple[str, ...]:
    """The ids of every template file, sorted."""
    folder = resources.files("server").joinpath(FOLDER)
    return tuple(sorted(entry.name[:-5] for entry in folder.iterdir()
                        if entry.name.endswith(".json")))


@cache
def template_file(template_id: str) -> dict[str, Any]:
    """A template file as stored; DomainError("unknown_template") for an id we lack."""
    if template_id not in template_ids():
        raise DomainError("unknown_template")
    text = resources.files("server").joinpath(f"{FOLDER}/{template_id}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def template(template_id: str, lang: str) -> dict[str, Any]:
    """One template in one language, as GET /api/templates lists it."""
    if not isinstance(template_id, str):  # (no cache lookup for what is no id at all)
        raise DomainError("unknown_template")
    data = template_file(template_id)
    text = data[pick_language(lang)]
    return {"id": data["id"], "title": text["title"], "description": text["description"],
            "language": pick_language(lang),
            "activities": [{"title": a["title"], "prompts": list(a["prompts"]),
                            "settings": dict(a.get("settings") or {})}
                           for a in text["activities"]]}


def templates(lang: str) -> list[dict[str, Any]]:
    return [template(tid, lang) for tid in template_ids()]


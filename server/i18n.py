"""The user interface's words: one catalogue per language (server/locales/ui.{lang}.json).

Templates get a `t(key, **params)` function; the screens' modules get the whole
catalogue in their config JSON and use the same keys (static/js/i18n.js). A key ending
in `.one` / `.other` is a plural pair: `t("dots_left", count=1)` picks `dots_left.one`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from server.language import DEFAULT_LANGUAGE, LANGUAGES

Translate = Callable[..., str]


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every UI string of one language (Dutch when the language is unknown)."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    text = resources.files("server").joinpath(f"locales/ui.{lang}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def translate(lang: str, key: str, params: Mapping[str, Any] | None = None) -> str:
    """The string for `key`, formatted with `params`; the key itself when it is missing."""
    cat = catalogue(lang)
    params = params or {}
    if "count" in params:
        plural = f"{key}.one" if params["count"] == 1 else f"{key}.other"
        if plural in cat:
            key = plural
    template = cat.get(key) or catalogue(DEFAULT_LANGUAGE).get(key) or key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def translator(lang: str) -> Translate:
    def t(key: str, **params: Any) -> str:
        return translate(lang, key, params)

    return t

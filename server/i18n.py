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

from server.errors import DEFAULT_LANGUAGE, LANGUAGES

LANG_COOKIE = "lang"

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


def _known(value: str | None) -> str | None:
    if value and value[:2].lower() in LANGUAGES:
        return value[:2].lower()
    return None


def from_accept_language(header: str | None) -> str | None:
    """The first language in an Accept-Language header that we speak, by quality."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, rest = part.strip().partition(";")
        quality = 1.0
        if rest.strip().startswith("q="):
            try:
                quality = float(rest.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = _known(tag.strip())
        if lang and quality > 0:
            choices.append((-quality, index, lang))
    return min(choices)[2] if choices else None


def pick(
    query: str | None,
    cookie: str | None,
    workshop: str | None,
    accept_language: str | None,
    fallback: str | None = None,
) -> str:
    """The page's language: ?lang=, then the visitor's earlier choice (cookie), then the
    workshop's language (staff screens pass it), then the browser's, then `fallback`
    (the phone passes the workshop's language here), then Dutch."""
    return (
        _known(query)
        or _known(cookie)
        or _known(workshop)
        or from_accept_language(accept_language)
        or _known(fallback)
        or DEFAULT_LANGUAGE
    )

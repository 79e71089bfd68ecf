"""One error type for everything a user can get wrong, with a machine code and a message.

The message is looked up in the catalogue of the user's language (Dutch by default) and
formatted with the error's parameters, so the same error reads well on every screen.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from server.language import DEFAULT_LANGUAGE, pick_language


@cache
def _catalogue(lang: str) -> dict[str, str]:
    text = resources.files("server").joinpath(f"locales/errors.{lang}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def message(code: str, lang: str, params: dict[str, Any] | None = None) -> str:
    cat = _catalogue(pick_language(lang))
    template = cat.get(code) or _catalogue(DEFAULT_LANGUAGE).get(code) or cat["internal"]
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError):
        return template


class DomainError(Exception):
    """A refusal: `code` is machine-readable, `params` fill in the message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def body(self, lang: str) -> dict[str, Any]:
        return {"code": self.code, "message": message(self.code, lang, self.params)}


def error_body(code: str, lang: str, **params: Any) -> dict[str, Any]:
    return {"error": DomainError(code, **params).body(lang)}

"""Which language a visitor gets: the one list of languages, and the one way to choose.

Every screen, error and socket asks here. The order of choice, first known one wins:
`?lang=`, then the visitor's earlier choice (a cookie), then the workshop's language
(staff screens), then the browser's (Accept-Language, by quality), then a fallback (the
phone passes the workshop's language here), then Dutch. A socket's hello names its
language itself, else it gets the workshop's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

LANGUAGES: Final = ("nl", "en")
DEFAULT_LANGUAGE: Final = "nl"
LANG_COOKIE: Final = "lang"
COOKIE_SECONDS = 365 * 24 * 3600


class Request(Protocol):
    """What a request tells of its language (a Starlette Request has it): this module
    stays pure, with no web framework to import."""

    @property
    def query_params(self) -> Mapping[str, str]: ...

    @property
    def cookies(self) -> Mapping[str, str]: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


def known(value: object) -> str | None:
    """The language a tag names ("en", "en-GB", "EN"), if we speak it."""
    if isinstance(value, str) and value[:2].lower() in LANGUAGES:
        return value[:2].lower()
    return None


def pick_language(value: object) -> str:
    """The language a tag names, else Dutch."""
    return known(value) or DEFAULT_LANGUAGE


def exact(value: object) -> str | None:
    """A language given exactly as we name it (a socket's hello: "nl" or "en")."""
    return value if isinstance(value, str) and value in LANGUAGES else None


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
        lang = known(tag.strip())
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
    """The language, in the order of choice above."""
    return (
        known(query)
        or known(cookie)
        or known(workshop)
        or from_accept_language(accept_language)
        or known(fallback)
        or DEFAULT_LANGUAGE
    )


def page_language(
    request: Request, workshop_lang: str | None = None, fallback: str | None = None
) -> str:
    """A page's language. Staff screens pass the workshop's language as `workshop_lang`
    (before the browser's); the phone passes it as `fallback` (after the browser's)."""
    return pick(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        workshop_lang,
        request.headers.get("accept-language"),
        fallback,
    )


def request_language(request: Request) -> str:
    """A JSON answer's language: `?lang=`, else the browser's, else Dutch (no cookie: an
    API client is no visitor with an earlier choice)."""
    return pick(request.query_params.get("lang"), None, None,
                request.headers.get("accept-language"))


def chosen_language(request: Request) -> str | None:
    """A language chosen with ?lang=, to be remembered in the cookie."""
    return exact(request.query_params.get("lang"))

"""Text as we store it: what a participant or facilitator types, cleaned the one way.

NFC; no controls but newline and tab; no bidi overrides or isolates ("Trojan Source");
no invisible formatting but what writing needs (joiners between characters, direction
marks, a flag's tags); trimmed; a text with nothing visible is empty; within a length.
"""

from __future__ import annotations

import unicodedata

from server.errors import DomainError

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
        code = {"note": "note_too_long", "name": "name_too_long",
                "contact": "contact_too_long"}.get(field, "title_too_long")
        raise DomainError(code, max=max_len)
    return text

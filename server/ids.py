"""Ids, secrets and join codes: how they are made, hashed and compared (no Redis here)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from server.protocol import CODE_DIGITS


def new_secret() -> str:
    """A key or token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def is_code(code: object) -> bool:
    return isinstance(code, str) and len(code) in CODE_DIGITS and code.isascii() and (
        code.isdigit())


def code_length(active: int, odds: int) -> int:
    """The fewest digits (6 to 10) for which one guess hits one of `active` codes with a
    chance of at most 1 in `odds`: active / 10**digits <= 1 / odds."""
    for digits in CODE_DIGITS:
        if active * odds <= 10**digits:
            return digits
    return CODE_DIGITS[-1]


def new_code(digits: int) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def new_id(prefix: str = "") -> str:
    """An opaque id that starts with a letter: never read as a formula ("-", "=") in a
    spreadsheet cell, nor as an option on a command line."""
    return prefix + secrets.choice(string.ascii_letters) + secrets.token_urlsafe(12)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_secret(given: str | None, stored_digest: str | None) -> bool:
    """Constant-time comparison of a secret with a stored digest."""
    if not given or not stored_digest or len(given) > 200:
        return False
    return hmac.compare_digest(digest(given), stored_digest)

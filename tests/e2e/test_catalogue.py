"""Every visible word comes from the catalogues: Dutch and English have the same keys and
the same placeholders, and every key the templates and modules use exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from server import i18n, language, rules

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _load(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((ROOT / f"server/locales/ui.{lang}.json").read_text())
    return data


def test_languages_have_the_same_keys_and_placeholders() -> None:
    nl, en = _load("nl"), _load("en")
    assert set(nl) == set(en)
    for key in nl:
        assert set(PLACEHOLDER.findall(nl[key])) == set(PLACEHOLDER.findall(en[key])), key
        assert nl[key].strip() and en[key].strip(), key


def _used_keys() -> set[str]:
    keys: set[str] = set()
    sources = [*ROOT.glob("templates/*.html"), *ROOT.glob("templates/_partials/*.html"),
               *ROOT.glob("static/js/*.js")]
    for path in sources:
        if path.name.startswith("report"):
            continue  # the report has its own words (server/locales/report.*.json)
        text = path.read_text()
        keys.update(re.findall(r"""\bt\(\s*["']([a-z_][a-z0-9_.]*[a-z0-9_])["']""", text))
    return keys


def test_every_used_key_exists() -> None:
    catalogue = _load("nl")
    plural = {k.rsplit(".", 1)[0] for k in catalogue if k.endswith((".one", ".other"))}
    missing = sorted(k for k in _used_keys() if k not in catalogue and k not in plural)
    assert not missing
    # Keys made from a name: phases, connection states, languages.
    for phase in rules.PHASES:
        assert f"phase.{phase}" in catalogue and f"phone.now.{phase}" in catalogue
    for state in ("online", "connecting", "offline"):
        assert f"conn.{state}" in catalogue
    for lang in ("nl", "en"):
        assert f"lang.name.{lang}" in catalogue


def test_translate_plurals_and_fallbacks() -> None:
    assert i18n.translate("nl", "results.dots", {"count": 1, "n": 1}) == "1 stip"
    assert i18n.translate("en", "results.dots", {"count": 3, "n": 3}) == "3 dots"
    assert i18n.translate("xx", "join.submit") == "Meedoen"
    assert i18n.translate("en", "no.such.key") == "no.such.key"


def test_language_choice() -> None:
    assert language.pick("en", "nl", "nl", "nl") == "en"
    assert language.pick(None, "en", "nl", "nl") == "en"
    assert language.pick(None, None, "en", "nl") == "en"
    assert language.pick(None, None, None, "de-DE,en;q=0.8,nl;q=0.9") == "nl"
    assert language.pick(None, None, None, "fr", fallback="en") == "en"
    assert language.pick(None, None, None, None) == "nl"

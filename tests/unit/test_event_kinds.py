"""One list of event kinds in four places: the op script that emits them, the front end's
EVENT table, the protocol document's event table and server/events.py."""

from __future__ import annotations

import re
from pathlib import Path

from server.events import EVENT_KINDS, KINDS

ROOT = Path(__file__).resolve().parents[2]


def emitted_by_ops_lua() -> set[str]:
    text = (ROOT / "server" / "lua" / "ops.lua").read_text(encoding="utf-8")
    return set(re.findall(r"\bemit\(\s*['\"]([a-z_]+)['\"]", text))


def js_event_table() -> set[str]:
    """The values of `export const EVENT = Object.freeze({...})`, wherever under
    static/js it lives."""
    found = []
    for path in sorted((ROOT / "static" / "js").rglob("*.js")):
        match = re.search(r"export const EVENT\s*=\s*(?:Object\.freeze\(\s*)?\{(.*?)\}",
                          path.read_text(encoding="utf-8"), re.S)
        if match:
            found.append(set(re.findall(r"[A-Z_]+\s*:\s*[\"']([a-z_]+)[\"']", match.group(1))))
    assert len(found) == 1, f"expected one `export const EVENT` under static/js, got {found}"
    return found[0]


def documented_kinds() -> set[str]:
    """The kinds named in the first column of the tables whose first header cell is
    "kind" or "event" (the event table of docs/protocol.md)."""
    kinds: set[str] = set()
    table = ""    # "" outside a table, else "events" or "other"
    for line in (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            table = ""
            continue
        first = line.split("|")[1].strip()
        if not table:       # a header row
            table = "events" if first.lower() in ("kind", "event", "event kind") else "other"
        elif table == "events":
            kinds.update(re.findall(r"`([a-z_]+)`", first))
    return kinds


def test_every_list_of_event_kinds_is_the_same() -> None:
    assert len(EVENT_KINDS) == len(KINDS), "a kind is listed twice in server/events.py"
    assert emitted_by_ops_lua() == EVENT_KINDS
    assert js_event_table() == EVENT_KINDS
    assert documented_kinds() == EVENT_KINDS


def test_each_kind_says_what_it_means() -> None:
    for kind in KINDS:
        assert kind.doc.strip(), kind.name

"""docs/protocol.md says all there is: every op with its roles, every workshop setting
with its default, every error code and every close code the server uses, and nothing the
server does not know. (The event kinds are held together with the Lua script and the
screens by their own test.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from server import protocol, rules

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/protocol.md").read_text("utf-8")


def table(heading: str) -> list[list[str]]:
    """The rows of the first table after `heading`, as lists of cells (header left out)."""
    start = DOC.index(heading)
    rows: list[list[str]] = []
    for line in DOC[start:].splitlines()[1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows[2:]     # the header and the --- line


def first(cell: str) -> str:
    found = re.match(r"`([^`]+)`", cell)
    assert found, cell
    return found.group(1)


def test_every_op_with_its_roles() -> None:
    rows = {first(r[0]): r for r in table("### ops")}
    assert set(rows) == set(rules.OPS)
    for op, roles in rules.OPS.items():
        named = set(re.findall(r"participant|facilitator|projector", rows[op][1]))
        assert named == set(roles), (op, rows[op][1])


def test_every_workshop_setting() -> None:
    assert {first(r[0]) for r in table("## Workshop settings")} == set(rules.DEFAULT_SETTINGS)


@pytest.mark.parametrize("name", sorted(rules.DEFAULT_SETTINGS))
def test_each_setting_with_its_default(name: str) -> None:
    rows = {first(r[0]): r[1] for r in table("## Workshop settings")}
    assert name in rows, f"{name} is not in the settings table"
    default = rules.DEFAULT_SETTINGS[name]
    shown = rows[name].strip("`")
    expected = json.dumps(default) if not isinstance(default, str) else default
    assert shown == expected, (name, rows[name])


def test_every_error_code() -> None:
    catalogue = json.loads((ROOT / "server/locales/errors.en.json").read_text("utf-8"))
    documented = {first(r[0]) for r in table("## Error codes")}
    assert documented == set(catalogue)


def test_every_close_code_the_server_sends() -> None:
    documented = {int(r[0].split()[0]) for r in table("### Close codes")}
    constants = {v for k, v in vars(protocol).items()
                 if k.startswith("CLOSE_") and isinstance(v, int)}
    assert constants == set(protocol.CLOSE_CODES.values())
    assert constants <= documented
    # And every literal close code in the server's own code.
    used: set[int] = set()
    for path in (ROOT / "server").rglob("*.py"):
        text = path.read_text("utf-8")
        used |= {int(c) for c in re.findall(r"close(?:_later)?\([^)]*?\b(1\d{3}|4\d{3})\b", text)}
        used |= {int(c) for c in re.findall(r"refuse\((1\d{3}|4\d{3})\b", text)}
        used |= {int(c) for c in re.findall(r"close\(code=(1\d{3}|4\d{3})\)", text)}
    assert used, "the reader finds no close code: the patterns are stale"
    assert used <= documented, used - documented

"""docs/deployment.md's systemd template unit is a unit systemd accepts: extracted from
the doc as written and checked with `systemd-analyze verify` (the interpreter's path
pointed at this one, as /opt/samenspel does not exist here). Skipped, with the reason,
where systemd-analyze is not installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

DOC = ROOT / "docs" / "deployment.md"
VENV_PYTHON = "/opt/samenspel/.venv/bin/python"


def documented_unit() -> str:
    text = DOC.read_text(encoding="utf-8")
    after = text.split("/etc/systemd/system/samenspel@.service", 1)[1]
    block = re.search(r"```ini\n(.*?)```", after, re.S)
    assert block, "no ini block after the unit's name in docs/deployment.md"
    return "\n".join(line.removeprefix("   ") for line in block.group(1).splitlines())


def test_the_documented_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = documented_unit()
    assert f"ExecStart={VENV_PYTHON} -m server" in unit
    assert "TimeoutStopSec=" in unit and "KillSignal=SIGTERM" in unit
    path = tmp_path / "samenspel@8001.service"
    path.write_text(unit.replace(VENV_PYTHON, sys.executable), encoding="utf-8")
    run = subprocess.run([analyze, "verify", "--man=no", str(path)], capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode == 0 and not run.stderr.strip(), run.stdout + run.stderr

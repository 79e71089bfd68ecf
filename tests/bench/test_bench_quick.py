"""The benchmark's quick mode as a smoke test: the load generator, the baseline and every
scenario run end to end, and their correctness checks hold (every note delivered once,
totals equal the acknowledged dots, nobody over budget, every phone resynced). Timings
are only reported, never asserted: speed is shown by docs/benchmarks.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_quick_mode_passes_its_correctness_checks(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "all correctness checks passed" in run.stdout
    assert (tmp_path / "results.md").exists() and (tmp_path / "results.json").exists()

"""docs/operations.md names every metric the server has (with what a healthy value is),
and the sample Grafana dashboard (docs/grafana/samenspel.json) is valid JSON that asks
only for metrics the server has, the contract's four among them."""

from __future__ import annotations

import json
import re

from tests.support import ROOT

SOURCE = (ROOT / "server" / "metrics.py").read_text("utf-8")
DOC = (ROOT / "docs" / "operations.md").read_text("utf-8")
DASHBOARD = json.loads((ROOT / "docs" / "grafana" / "samenspel.json").read_text("utf-8"))
CONTRACT = {"samenspel_connections", "samenspel_ops_total", "samenspel_op_seconds",
            "samenspel_fanout_seconds"}


def server_metrics() -> set[str]:
    names = set(re.findall(r'"(samenspel_[a-z_]+)"', SOURCE))
    assert CONTRACT <= names
    return names


def test_every_metric_has_a_row_in_the_operations_doc() -> None:
    rows = set(re.findall(r"^\| `(samenspel_[a-z_]+)`", DOC, re.MULTILINE))
    assert rows == server_metrics()


def test_the_dashboard_uses_the_server_metrics() -> None:
    exprs = [t["expr"] for p in DASHBOARD["panels"] for t in p["targets"]]
    used = {re.sub(r"_(bucket|sum|count)$", "", name)
            for e in exprs for name in re.findall(r"samenspel_[a-z_]+", e)}
    assert used <= server_metrics(), used - server_metrics()
    assert CONTRACT <= used

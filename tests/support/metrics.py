"""Reading a test server's GET /metrics with prometheus-client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import ServerProcess
from tests.support.web import http

TOKEN = "metrics-token-7f3a9c2e51"  # noqa: S105 (a test's token)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(proc: ServerProcess, token: str = TOKEN) -> tuple[str, Samples]:
    resp = await http("GET", f"{proc.url}/metrics",
                      headers={"authorization": f"Bearer {token}"})
    assert resp.status == 200, resp
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return resp.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every sample of `name` whose labels include these."""
    return sum(v for (n, ls), v in samples.items()
               if n == name and set(labels.items()) <= set(ls))

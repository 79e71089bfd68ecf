"""Fixtures for every tier: a real Redis (or embedded Valkey), the real server, a store.

- `redis_url` (session): TEST_REDIS_URL when set (tests use unique keys and remove the
  workshops they made at the end; nothing is flushed); with TEST_REDIS_CLUSTER=1 a local
  Redis Cluster of 3 masters and 3 replicas (tests/support/cluster.py), named by its
  first node; else an embedded Valkey in a temporary folder, stopped at the end.
- `local_cluster` (session): that cluster (None on the other targets), for the fault
  tests that kill its nodes.
- `server` (session): one `python -m server` process on that Redis, shared by the
  integration tests that do not stop or restart it.
- `store` (session): server.store.Store on the same Redis, to read the stored state.
- A failing test gets the logs of the servers it used attached to its report.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from server import keys
from server.embedded import EmbeddedValkey
from server.store import Store
from tests.support import CREATED, ServerProcess
from tests.support.cluster import ON_CLUSTER, LocalCluster


@pytest.fixture(scope="session")
def local_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster | None]:
    if not ON_CLUSTER:
        yield None
        return
    cluster = LocalCluster(tmp_path_factory.mktemp("cluster"))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory,
              local_cluster: LocalCluster | None) -> Iterator[str]:
    if local_cluster is not None:
        yield local_cluster.url
        return
    given = os.environ.get("TEST_REDIS_URL")
    if given:
        yield given
        _erase_created(given)
        return
    valkey = EmbeddedValkey(tmp_path_factory.mktemp("valkey"))
    valkey.start()
    try:
        yield valkey.url
    finally:
        valkey.stop()


def _erase_created(url: str) -> None:
    """Remove every key of the workshops this session made (a shared Redis)."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        for wid in CREATED:
            code = client.hget(keys.workshop_key(wid, "meta"), "code")
            names = keys.workshop_keys(wid)
            if code:
                names.append(keys.code_key(str(code)))
                client.zrem(keys.ACTIVE_CODES, str(code))
            client.delete(*names)
    finally:
        client.close()


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def server(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(redis_url, logs_dir, name="shared")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
        proc.reap()


@pytest.fixture(scope="session")
async def store(redis_url: str) -> AsyncIterator[Store]:
    s = Store.from_url(redis_url, retention_ms=3600_000, stream_maxlen=10_000)
    try:
        yield s
    finally:
        await s.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if report.failed and call.when in ("setup", "call"):
        started = item.stash.get(_STARTED_AT, 0)
        for proc in ServerProcess.instances[started:] + [
            p for p in ServerProcess.instances[:started] if p.running
        ]:
            report.sections.append((f"server log: {proc.name}:{proc.port}", proc.log_tail(300)))
    return report


_STARTED_AT = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_STARTED_AT] = len(ServerProcess.instances)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps its own event loop running in this
    thread for as long as the session's browser is open, and the asyncio tests need the
    thread's loop to themselves. Otherwise the order stays as collected."""
    items.sort(key=lambda item: "tests/e2e/" in item.nodeid.replace("\\", "/"))

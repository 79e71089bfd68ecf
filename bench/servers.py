"""Processes the bench starts and watches: the server under test (1..n uvicorn processes
sharing one Redis), the baseline broadcast server, an embedded Valkey when no Redis is
given, and a sampler of CPU and memory (psutil) for all of them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import redis

from server.embedded import EmbeddedValkey, free_port

ROOT = Path(__file__).resolve().parent.parent

UVICORN_FLAGS = [
    "--ws", "websockets-sansio", "--ws-max-size", "16384", "--ws-per-message-deflate", "false",
    "--no-access-log", "--no-proxy-headers", "--loop", "uvloop", "--http", "httptools",
]


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout}s: {last}")


def wait_tcp(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open in {timeout}s")


def throwaway_valkey(fsync: bool = False) -> EmbeddedValkey:
    """The app's embedded Valkey in a temporary folder, for a bench given no Redis: no
    append-only file unless `fsync` (then as the app runs it)."""
    folder = Path(tempfile.mkdtemp(prefix="samenspel-bench-valkey-"))
    return EmbeddedValkey(folder, persist=fsync, extra_config=("maxclients 10000",))


class ServerSet:
    """`procs` server processes on distinct ports: the app (one Redis) or the baseline."""

    def __init__(self, kind: str, procs: int, redis_url: str | None, log_dir: Path,
                 root: Path = ROOT, env: dict[str, str] | None = None,
                 ws_impl: str = "websockets-sansio") -> None:
        self.ws_impl = ws_impl
        self.kind = kind
        self.root = root  # the source tree the servers run from (A/B runs of a change)
        self.extra_env = env or {}
        self.procs = procs
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.ports: list[int] = []
        self.popens: list[subprocess.Popen[bytes]] = []
        self._logs: list[Any] = []

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.popens]

    def urls(self) -> list[str]:
        return [f"ws://127.0.0.1:{p}/ws" for p in self.ports]

    def http(self, i: int = 0) -> str:
        return f"http://127.0.0.1:{self.ports[i % len(self.ports)]}"

    def start(self) -> None:
        env = dict(os.environ)
        env.update({
            "CREATES_PER_HOUR": "100000",
            # Thousands of simulated phones share the loopback address: not one hall.
            "JOINS_PER_SECOND": "100000",
            "JOIN_BURST": "100000",
            "RETENTION_DAYS": "1",
            "PYTHONUNBUFFERED": "1",
        })
        env.pop("PORT", None)
        env.update(self.extra_env)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        for i in range(self.procs):
            port = free_port()
            if self.kind == "app":
                cmd = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory",
                       "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                       *UVICORN_FLAGS]
                cmd[cmd.index("--ws") + 1] = self.ws_impl
            else:
                cmd = [sys.executable, "-m", "bench.baseline", "--port", str(port)]
            log = open(self.log_dir / f"{self.kind}-{i}.log", "ab")
            self._logs.append(log)
            proc = subprocess.Popen(cmd, cwd=self.root if self.kind == "app" else ROOT,
                                    env=env, stdout=log, stderr=log)
            self.ports.append(port)
            self.popens.append(proc)
        for port, proc in zip(self.ports, self.popens, strict=True):
            if self.kind == "app":
                wait_http(f"http://127.0.0.1:{port}/healthz", 30, proc)
            else:
                wait_tcp(port, 30, proc)

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.popens)

    def stop(self) -> None:
        for p in self.popens:
            if p.poll() is None:
                p.terminate()
        for p in self.popens:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in self._logs:
            log.close()
        self.popens, self.ports, self._logs = [], [], []


def rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            total += psutil.Process(pid).memory_info().rss
    return total


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
    return total


class Sampler:
    """Samples CPU (percent of one core) and RSS of process groups every `interval`."""

    def __init__(self, groups: dict[str, list[int]], redis_url: str | None,
                 interval: float = 0.25) -> None:
        self.groups = groups
        self.interval = interval
        self.redis_url = redis_url
        self.samples: dict[str, list[tuple[float, float, int]]] = {g: [] for g in groups}
        self.system: list[float] = []  # whole machine, % of one core
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._procs = {g: [psutil.Process(p) for p in pids] for g, pids in groups.items()}
        self._redis_cpu0: float | None = None
        self._t0 = 0.0

    def _cpu_times(self) -> dict[str, tuple[float, float]]:
        """(user, system) CPU seconds so far, per group."""
        out = {}
        for g, procs in self._procs.items():
            user = system = 0.0
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    t = p.cpu_times()
                    user += t.user
                    system += t.system
            out[g] = (user, system)
        return out

    def _redis_cpu(self) -> float | None:
        if not self.redis_url:
            return None
        try:
            r = redis.Redis.from_url(self.redis_url, socket_timeout=2)
            info = r.info("cpu")
            r.close()
            return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        except (redis.RedisError, OSError):
            return None

    def __enter__(self) -> Sampler:
        for procs in self._procs.values():
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    p.cpu_percent(None)
        self._redis_cpu0 = self._redis_cpu()
        self._times0 = self._cpu_times()
        psutil.cpu_percent(None)
        self._t0 = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        elapsed = time.monotonic() - self._t0
        self.elapsed = elapsed
        self._times1 = self._cpu_times()
        cpu1 = self._redis_cpu()
        self.redis_cpu_pct = (
            100.0 * (cpu1 - self._redis_cpu0) / elapsed
            if cpu1 is not None and self._redis_cpu0 is not None and elapsed > 0 else None
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            t = time.monotonic()
            for g, procs in self._procs.items():
                cpu = 0.0
                mem = 0
                for p in procs:
                    with contextlib.suppress(psutil.Error):
                        cpu += p.cpu_percent(None)
                        mem += p.memory_info().rss
                self.samples[g].append((t, cpu, mem))
            self.system.append(psutil.cpu_percent(None) * (os.cpu_count() or 1))

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for g, rows in self.samples.items():
            if not rows:
                out[g] = {"cpu_mean": None, "cpu_max": None, "rss_peak_mb": None}
                continue
            cpus = [r[1] for r in rows]
            t0 = getattr(self, "_times0", {}).get(g, (0.0, 0.0))
            t1 = getattr(self, "_times1", {}).get(g, t0)
            out[g] = {
                "user_s": t1[0] - t0[0], "system_s": t1[1] - t0[1],
                "cpu_mean": sum(cpus) / len(cpus),
                "cpu_max": max(cpus),
                "rss_peak_mb": max(r[2] for r in rows) / 2**20,
            }
        out["redis_cpu_mean"] = getattr(self, "redis_cpu_pct", None)
        out["sampled_s"] = getattr(self, "elapsed", None)
        # What else ran on the machine meanwhile (other users, tests): noise to know of.
        if self.system:
            total = sum(self.system) / len(self.system)
            ours = sum(out[g]["cpu_mean"] or 0 for g in self.groups) + (
                out["redis_cpu_mean"] or 0)
            out["machine_cpu_mean"] = total
            out["other_cpu_mean"] = max(0.0, total - ours)
        return out

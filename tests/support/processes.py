"""The real server (`python -m server`) as a subprocess on a free port.

Its log is captured to a file, attached to the report of a failing test (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

from tests.support.web import http_sync

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])



# What every test server runs with.
TEST_SETTINGS = {
    # Every test comes from 127.0.0.1, often on a shared Redis whose counters outlive one
    # run: the per-address limits are tested on their own.
    "FAILURES_PER_MINUTE": "100000",
    "CREATES_PER_HOUR": "100000",
    "GUESSES_PER_MINUTE": "100000",
    # Many phones of many tests join from 127.0.0.1 at once: not one hall.
    "JOINS_PER_SECOND": "100000",
    "JOIN_BURST": "100000",
    # Join codes stay 6 digits however many workshops a shared Redis holds: their growth
    # is tested on its own (tests/security/test_admission.py).
    "CODE_ODDS": "1",
    # Tests speak for other client addresses through X-Forwarded-For (the test of the
    # default, which trusts nobody, removes this).
    "FORWARDED_ALLOW_IPS": "127.0.0.1",
}


class ServerProcess:
    """`python -m server` (or uvicorn with the same options) on a free port.

    `redis_url=None` runs it without REDIS_URL, so that it starts its embedded Valkey in
    `data_dir`. The log goes to `<log_dir>/<name>.log`; every instance is remembered in
    ServerProcess.instances so that conftest can print the logs of a failing test.
    """

    instances: ClassVar[list[ServerProcess]] = []

    def __init__(
        self,
        redis_url: str | None,
        log_dir: Path,
        *,
        name: str = "server",
        port: int | None = None,
        env: Mapping[str, str | None] | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.redis_url = redis_url
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.port = port or free_port()
        self.extra_env: dict[str, str | None] = dict(env or {})
        self.data_dir = data_dir or (self.log_dir / f"{name}-data")
        self.log_path = self.log_dir / f"{name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        ServerProcess.instances.append(self)

    # -- addresses
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def origin(self) -> str:
        return self.url

    # -- lifecycle
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update({
            "PYTHONUNBUFFERED": "1",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATA_DIR": str(self.data_dir),
            **TEST_SETTINGS,
        })
        if self.redis_url is not None:
            env["REDIS_URL"] = self.redis_url
        for name, value in self.extra_env.items():
            if value is None:
                env.pop(name, None)   # unset, as on a server where nobody set it
            else:
                env[name] = value
        return env

    def start(self, timeout: float = 30.0, *, wait: bool = True) -> ServerProcess:
        """Start it; wait (unless wait=False) until /healthz says 200."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start #{self.starts} =====\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [PYTHON, "-m", "server"],
                cwd=str(ROOT),
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: a kill reaches the embedded Valkey child too.
                start_new_session=True,
            )
        if wait:
            try:
                self.wait_ready(timeout)
            except BaseException:
                self.stop(5)  # not left running after a failed start (no __exit__ then)
                raise
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                resp = http_sync("GET", f"{self.url}/healthz", timeout=1.0)
                if resp.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not healthy after {timeout}s:\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (a graceful shutdown, as a deploy does); SIGKILL after `timeout`."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        code = self.process.returncode
        return code

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash: no shutdown code runs)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def reap(self) -> None:
        """SIGKILL whatever is left of the process group (say, a leaked Valkey child)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def restart(self, timeout: float = 30.0) -> ServerProcess:
        self.stop()
        return self.start(timeout)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.reap()

    # -- logs
    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 200) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


@contextlib.contextmanager
def running(*procs: ServerProcess) -> Iterator[tuple[ServerProcess, ...]]:
    """Start every server; at the end stop each and reap what is left of it."""
    try:
        for proc in procs:
            proc.start()
        yield procs
    finally:
        for proc in procs:
            proc.stop()
            proc.reap()

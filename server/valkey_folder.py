"""The embedded Valkey's data folder: the app's lock on it, Valkey's password and config
files, and any Valkey still running on it from before (see server/embedded.py for why)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import signal
import time
from pathlib import Path
from typing import IO

log = logging.getLogger("samenspel")

LOCK_FILE = "samenspel.lock"
PASSWORD_FILE = "valkey.password"  # noqa: S105 - a file name
PID_FILE = "valkey.pid"
CONF_FILE = "valkey.conf"


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


def folder_password(data_dir: Path) -> str:
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


def write_config(data_dir: Path, port: int, password: str, *, persist: bool,
                 maxmemory: str | None, extra_config: tuple[str, ...]) -> Path:
    """Valkey's config file in the folder: loopback only, the password, AOF with an fsync
    per write (or none), and never an eviction."""
    conf = data_dir / CONF_FILE
    text = "\n".join(
        [
            "bind 127.0.0.1",
            f"port {port}",
            f'dir "{data_dir}"',
            *(["appendonly yes", "appendfsync always"] if persist else ["appendonly no"]),
            'save ""',
            "protected-mode yes",
            "daemonize no",
            f'pidfile "{data_dir / PID_FILE}"',
            'logfile "valkey.log"',
            f'requirepass "{password}"',
            *([f"maxmemory {maxmemory}", "maxmemory-policy noeviction"] if maxmemory else []),
            *extra_config,
            "",
        ]
    )
    # The config holds the password: only its owner may read it.
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(conf, 0o600)
    return conf


def stop_orphans(data_dir: Path, own_pid: int | None) -> None:
    """A Valkey still running on this folder (its app died before it could stop it)
    is shut down cleanly before ours starts: never two writers on one file."""
    for pid in _running_valkeys(data_dir):
        if pid == own_pid:
            continue
        log.warning("a Valkey (pid %d) still ran on %s; stopping it before starting ours",
                    pid, data_dir)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)  # a frozen one could not handle SIGTERM
            os.kill(pid, signal.SIGTERM)  # clean shutdown: the AOF is complete
        if not _wait_gone(pid, 15.0):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if not _wait_gone(pid, 5.0):
                raise RuntimeError(f"could not stop the Valkey (pid {pid}) on {data_dir}")


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

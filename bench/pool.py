"""The orchestrator's side of the load-generator workers: start them, send commands,
wait (bounded) for their answers."""

from __future__ import annotations

import multiprocessing as mp
import time
from multiprocessing.connection import Connection
from typing import Any

from bench.loadgen import worker_main


class BenchError(RuntimeError):
    pass


class Pool:
    def __init__(self, size: int) -> None:
        ctx = mp.get_context("spawn")
        self.size = size
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for i in range(size):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker_main, args=(child, i), daemon=True,
                            name=f"bench-worker-{i}")
            p.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(p)
        self.pids = [int(r["pid"]) for r in self.all("ping", timeout=60)]

    def send(self, i: int, cmd: str, **args: Any) -> None:
        self.conns[i].send({"cmd": cmd, "args": args})

    def wait(self, i: int, deadline: float) -> dict[str, Any]:
        conn = self.conns[i]
        left = deadline - time.monotonic()
        if left <= 0 or not conn.poll(left):
            raise BenchError(f"worker {i} did not answer in time")
        reply: dict[str, Any] = conn.recv()
        if not reply.get("ok_cmd", True):
            raise BenchError(f"worker {i}: {reply.get('error')}\n{reply.get('trace')}")
        return reply

    def call(self, i: int, cmd: str, timeout: float = 60, **args: Any) -> dict[str, Any]:
        self.send(i, cmd, **args)
        return self.wait(i, time.monotonic() + timeout)

    def all(self, cmd: str, timeout: float = 60, per: list[dict[str, Any]] | None = None,
            **args: Any) -> list[dict[str, Any]]:
        """The same command to every worker (or per-worker args), all answers."""
        for i in range(self.size):
            self.send(i, cmd, **(per[i] if per is not None else args))
        deadline = time.monotonic() + timeout
        replies = []
        error: BenchError | None = None
        for i in range(self.size):
            try:
                replies.append(self.wait(i, deadline))
            except BenchError as exc:
                error = error or exc
                replies.append({})
        if error:
            raise error
        return replies

    def close(self) -> None:
        for i, conn in enumerate(self.conns):
            try:
                conn.send({"cmd": "exit"})
                if conn.poll(30):
                    conn.recv()
            except (OSError, EOFError):
                pass
            self.procs[i].join(5)
            if self.procs[i].is_alive():
                self.procs[i].terminate()
                self.procs[i].join(5)

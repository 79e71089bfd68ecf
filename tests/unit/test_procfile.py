"""The Procfile's uvicorn command line shuts down as gracefully as `python -m server`:
the same timeout for open sockets after SIGTERM (tests/faults/test_shutdown.py shows
what happens within it)."""

from __future__ import annotations

import shlex

from server.__main__ import GRACEFUL_SHUTDOWN_SECONDS
from tests.support import ROOT


def web_argv() -> list[str]:
    procfile = (ROOT / "Procfile").read_text("utf-8")
    line = next(x for x in procfile.splitlines() if x.startswith("web:"))
    return shlex.split(line.split(":", 1)[1])


def test_procfile_has_the_graceful_shutdown_timeout_of_python_m_server() -> None:
    argv = web_argv()
    assert "--timeout-graceful-shutdown" in argv, argv
    given = argv[argv.index("--timeout-graceful-shutdown") + 1]
    assert int(given) == GRACEFUL_SHUTDOWN_SECONDS

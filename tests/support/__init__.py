"""Helpers shared by the integration, e2e and fault tests, by job:

- `web`: plain HTTP (`http`, `http_sync`, `create_workshop`, CREATED for cleanup).
- `processes`: `ServerProcess`, the real server as a subprocess on a free port, and
  `running`, a context that starts servers and stops them.
- `client`: `Client`, a protocol client on the real `websockets` client.
- `apply_events`: the server's client applier (server/client_state.py), re-exported.
- `compare`: `comparable` and `differences`, for comparing two screens.
- `waiting`: `eventually`, a wait on a condition with a deadline.

Nothing here fakes the server or the store: every helper talks to the real thing.
The names tests import are re-exported here.
"""

from server.client_state import apply_events
from tests.support.client import Client, Refused, close_all
from tests.support.compare import comparable, differences
from tests.support.processes import PYTHON, ROOT, ServerProcess, free_port, running
from tests.support.waiting import eventually
from tests.support.web import CREATED, HttpResponse, create_workshop, http, http_sync

__all__ = [
    "CREATED", "PYTHON", "ROOT", "Client", "HttpResponse", "Refused", "ServerProcess",
    "apply_events", "close_all", "comparable", "create_workshop", "differences", "eventually",
    "free_port", "http", "http_sync", "running",
]

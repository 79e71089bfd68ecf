"""Helpers shared by the integration, e2e and fault tests.

- `ServerProcess`: the real server (`python -m server`) as a subprocess on a free port,
  with its log captured to a file (attached to the report of a failing test).
- `Client`: a small protocol client on the real `websockets` client. It says hello per
  role, sends ops with generated op ids and awaits their ack or nack, applies events to
  its state as a screen would (docs/protocol.md), and checks that it never sees an event
  twice or out of order.
- `http`, `create_workshop`: plain HTTP with urllib (no proxies), run in a thread.

Nothing here fakes the server or the store: every helper talks to the real thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import orjson
import websockets
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# Workshops created through `create_workshop` in this test session (for cleanup on a
# shared Redis).
CREATED: list[str] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------- HTTP
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER_NO_REDIRECT = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _NoRedirect()
)


class HttpResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return orjson.loads(self.body)

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status} {self.body[:200]!r}>"


def http_sync(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    follow: bool = True,
    timeout: float = 10.0,
) -> HttpResponse:
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        hdrs.setdefault("content-type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)  # noqa: S310
    opener = _OPENER if follow else _OPENER_NO_REDIRECT
    try:
        with opener.open(req, timeout=timeout) as resp:
            return HttpResponse(resp.status, {k.lower(): v for k, v in resp.headers.items()},
                                resp.read())
    except urllib.error.HTTPError as err:
        return HttpResponse(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


async def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
               **kw: Any) -> HttpResponse:
    return await asyncio.to_thread(http_sync, method, url, body, headers, **kw)


async def create_workshop(
    base_url: str,
    title: str = "Samen de wijk",
    prompts: list[str] | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """POST /api/workshops; returns the 201 body (id, code, keys, urls)."""
    body: dict[str, Any] = {"title": title, "prompts": prompts or ["Wat gaat goed?"]}
    if settings is not None:
        body["settings"] = settings
    resp = await http("POST", f"{base_url}/api/workshops", body)
    assert resp.status == 201, resp
    created: dict[str, Any] = resp.json()
    CREATED.append(created["id"])
    return created


# -------------------------------------------------------------------- the server
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
            # Every test comes from 127.0.0.1, often on a shared Redis whose counters
            # outlive one run: the per-address limits are tested on their own.
            "FAILURES_PER_MINUTE": "100000",
            "CREATES_PER_HOUR": "100000",
            "GUESSES_PER_MINUTE": "100000",
            # Many phones of many tests join from 127.0.0.1 at once: not one hall.
            "JOINS_PER_SECOND": "100000",
            "JOIN_BURST": "100000",
            # Join codes stay 6 digits however many workshops a shared Redis holds: their
            # growth is tested on its own (tests/security/test_admission.py).
            "CODE_ODDS": "1",
            # Tests speak for other client addresses through X-Forwarded-For (the test
            # of the default, which trusts nobody, removes this).
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
        })
        if self.redis_url is not None:
            env["REDIS_URL"] = self.redis_url
        for name, value in self.extra_env.items():
            if value is None:
                env.pop(name, None)   # unset, as on a server where nobody set it
            else:
                env[name] = value
        return env

    def start(self, timeout: float = 30.0) -> ServerProcess:
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
        self.wait_ready(timeout)
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


# ---------------------------------------------------------------- the client
class Refused(Exception):
    """The server refused a hello: the error frame (if any) and the close code."""

    def __init__(self, code: int | None, error: dict[str, Any] | None) -> None:
        super().__init__(f"refused: close {code}, error {error}")
        self.code = code
        self.error = error


class ProtocolViolation(AssertionError):
    pass


def _drop_items(state: dict[str, Any], items: list[str]) -> None:
    votes = state["votes"]
    for item in items:
        votes["totals"].pop(item, None)
        votes["mine"].pop(item, None)


def apply_events(state: dict[str, Any], events: list[dict[str, Any]], me: str | None) -> None:
    """Apply events to a screen's state, as docs/protocol.md says a client does."""
    notes = {n["id"]: n for n in state["notes"]}

    def own(note: dict[str, Any]) -> bool:
        author = note.get("author") or {}
        return me is not None and author.get("participant_id") == me

    def replace_others(fresh: list[dict[str, Any]]) -> None:
        mine = {nid for nid, n in notes.items() if own(n)}
        for nid in [nid for nid in notes if nid not in mine]:
            del notes[nid]
        for n in fresh:
            if n["id"] not in mine:
                notes[n["id"]] = n

    def set_votes(v: dict[str, Any]) -> None:
        mine = state["votes"].get("mine", {})
        state["votes"] = {**{k: copy.deepcopy(x) for k, x in v.items()}, "mine": mine}

    for ev in events:
        kind, d = ev["kind"], ev["data"]
        ws = state["workshop"]
        if kind in ("note_deleted", "note_moderated", "cluster_changed",
                    "cluster_deleted") and "votes" in d:
            set_votes(d["votes"])   # dots were given back: fresh results
        if kind in ("note_added", "note_edited", "note_moderated"):
            if d.get("note") is not None:
                notes[d["note_id"]] = d["note"]
            elif d.get("hidden"):
                notes.pop(d["note_id"], None)
            _drop_items(state, d.get("removed_items", []))
        elif kind == "note_deleted":
            notes.pop(d["note_id"], None)
            _drop_items(state, d.get("removed_items", []))
        elif kind in ("cluster_changed", "cluster_deleted"):
            clusters = {c["id"]: c for c in state["clusters"]}
            if kind == "cluster_changed" and d.get("cluster"):
                clusters[d["cluster"]["id"]] = d["cluster"]
            if kind == "cluster_deleted":
                clusters.pop(d["cluster_id"], None)
            state["clusters"] = sorted(clusters.values(), key=lambda c: (c["order"], c["id"]))
            for nid, cid in d.get("assign", {}).items():
                if nid in notes:
                    notes[nid] = {**notes[nid], "cluster_id": cid}
            _drop_items(state, d.get("removed_items", []))
        elif kind == "phase_changed":
            ws["phase"] = d["phase"]
            set_votes(d["votes"])
            if "notes" in d:
                replace_others(d["notes"])
        elif kind == "settings_changed":
            ws["settings"] = d["settings"]
            set_votes(d["votes"])
            if "notes" in d:
                replace_others(d["notes"])
        elif kind == "timer_changed":
            ws["timer"] = d["timer"]
        elif kind == "votes_changed":
            if "mine" in d:
                state["votes"]["mine"] = dict(d["mine"])
                state["votes"]["voters"] = d["voters"]
                if "totals" in d:
                    set_votes({k: v for k, v in d.items()
                               if k not in ("item_id", "delta", "mine")})
            else:
                set_votes(d)
        elif kind == "participant_changed":
            state["participants"]["count"] = d["count"]
            if "notes" in d:   # a group crossed the small-group size: labels afresh
                replace_others(d["notes"])
            if "list" in d:
                state["participants"]["list"] = d["list"]
            p = d.get("participant")
            if p is not None:
                if me is not None and p["participant_id"] == me:
                    state["me"] = {k: p.get(k) for k in ("participant_id", "name", "perspective")}
                for nid, n in notes.items():   # the author's name on its notes follows
                    author = n.get("author")
                    if author and author.get("participant_id") == p["participant_id"]:
                        notes[nid] = {**n, "author": {**author, "name": p.get("name"),
                                                      "perspective": p.get("perspective")}}
                if "list" in state["participants"]:
                    listed = {x["participant_id"]: x for x in state["participants"]["list"]}
                    listed[p["participant_id"]] = {
                        k: p.get(k) for k in ("participant_id", "name", "perspective",
                                              "joined_at")}
                    state["participants"]["list"] = list(listed.values())
        elif kind == "workshop_changed":
            ws["locked"] = d["locked"]
        elif kind == "participant_removed":
            for nid in d["note_ids"]:
                notes.pop(nid, None)
            set_votes(d["votes"])
            _drop_items(state, d["removed_items"])   # from `mine` too
            state["participants"]["count"] = d["count"]
            if "notes" in d:
                replace_others(d["notes"])
            if "list" in d:
                state["participants"]["list"] = d["list"]
            elif "list" in state["participants"] and "participant_id" in d:
                state["participants"]["list"] = [
                    x for x in state["participants"]["list"]
                    if x["participant_id"] != d["participant_id"]]
    state["notes"] = sorted(notes.values(), key=lambda n: (n["created_at"], n["id"]))


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """A screen's state without what legitimately differs between two sockets of it:
    `online` (presence), the order of the participant list, a running timer's
    remaining_ms (computed when sent; ends_at is the fact), and (for now) the group
    shown in the facilitator's participant list (see below)."""
    ws = state["workshop"]
    timer = dict(ws["timer"])
    if timer["running"]:
        timer.pop("remaining_ms", None)
    out = {
        "workshop": {k: ws[k] for k in ("id", "code", "title", "phase", "locked", "settings")},
        "timer": timer,
        "prompts": state["prompts"],
        "notes": {n["id"]: n for n in state["notes"]},
        "clusters": state["clusters"],
        "votes": state["votes"],
        "count": state["participants"]["count"],
        "me": state.get("me"),
    }
    if "list" in state["participants"]:
        out["list"] = sorted(state["participants"]["list"], key=lambda p: p["participant_id"])
    return out


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as readable lines (for assertion messages)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                out.append(f"{path}/{key}: {a.get(key, '<missing>')!r} != "
                           f"{b.get(key, '<missing>')!r}")
            else:
                out += differences(a[key], b[key], f"{path}/{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [line for i, (x, y) in enumerate(zip(a, b, strict=True))
                for line in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


class Client:
    """One socket to the server, as a screen uses it.

    Frames are read by a background task: `welcome` sets the state (or keeps it, when the
    server replays instead), `events` are checked for order and applied, `ack`/`nack`
    resolve the op that is awaited. A client can reconnect (`resume`) and keeps its
    state, last seq and token across sockets, like the phone does.
    """

    def __init__(self, server: ServerProcess | str, *, name: str = "client",
                 origin: str | None = None) -> None:
        if isinstance(server, ServerProcess):
            self.ws_url, self.origin = server.ws_url, server.origin
        else:
            base = server.rstrip("/")
            self.ws_url = base.replace("http", "ws", 1) + "/ws"
            self.origin = base
        if origin is not None:
            self.origin = origin
        self.name = name
        self.ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._op_prefix = secrets.token_hex(4)
        self._op_counter = itertools.count(1)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.hello_fields: dict[str, Any] = {}
        self.welcome: dict[str, Any] | None = None
        self.state: dict[str, Any] | None = None
        self.you: dict[str, Any] = {}
        self.seq = 0
        self.frames: list[dict[str, Any]] = []      # every frame, every socket
        self.events: list[dict[str, Any]] = []      # every event, in arrival order
        self.answers: list[dict[str, Any]] = []     # every ack and nack
        self.errors: list[dict[str, Any]] = []      # every `error` frame
        self.violations: list[str] = []             # events seen twice or out of order
        self.close_code: int | None = None
        self.close_reason: str | None = None

    # -- identity
    @property
    def pid(self) -> str | None:
        pid: str | None = self.you.get("participant_id")
        return pid

    @property
    def token(self) -> str | None:
        token: str | None = self.you.get("token")
        return token

    # -- connection
    async def connect(self, **kw: Any) -> Client:
        self.close_code = self.close_reason = None
        self._frames_this_socket = 0
        self.ws = await connect(self.ws_url, origin=self.origin, proxy=None,  # type: ignore[arg-type]
                                open_timeout=10, max_size=None, **kw)
        self._reader = asyncio.create_task(self._read(self.ws), name=f"read-{self.name}")
        return self

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                self._on_frame(orjson.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            if ws is self.ws:
                rcvd = ws.protocol.close_rcvd
                self.close_code = rcvd.code if rcvd is not None else ws.close_code
                self.close_reason = rcvd.reason if rcvd is not None else ws.close_reason
                for fut in self._pending.values():
                    if not fut.done():
                        fut.set_exception(ConnectionError(
                            f"{self.name}: socket closed ({self.close_code}) before an answer"))
            self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _on_frame(self, msg: dict[str, Any]) -> None:
        self.frames.append(msg)
        kind = msg.get("type")
        if kind == "welcome":
            self.welcome = msg
            self.you = msg["you"]
            if msg["state"] is not None:
                self.state = msg["state"]
            elif self.state is None:
                self.violations.append("welcome without state on a first connection")
            self.seq = msg["seq"]
        elif kind == "events":
            batch = msg["events"]
            for ev in batch:
                if ev["seq"] <= self.seq:
                    self.violations.append(
                        f"event {ev['seq']} {ev['kind']} after {self.seq}")
                self.seq = max(self.seq, ev["seq"])
            self.events.extend(batch)
            if self.state is not None:
                apply_events(self.state, batch, self.pid)
        elif kind in ("ack", "nack"):
            self.answers.append(msg)
            fut = self._pending.pop(str(msg.get("op_id")), None)
            if fut is not None and not fut.done():
                fut.set_result(msg)
        elif kind == "error":
            self.errors.append(msg)
        elif kind == "presence" and self.state is not None:
            self.state["participants"].update(msg["participants"])
        self._notify()

    async def send(self, obj: Any) -> None:
        assert self.ws is not None
        await self.ws.send(obj if isinstance(obj, str | bytes) else orjson.dumps(obj).decode())

    async def hello(self, within: float = 10.0, **fields: Any) -> dict[str, Any]:
        """Send a hello and wait for the welcome; Refused if the server says no."""
        if self.ws is None or self.close_code is not None or self._reader_done():
            await self.connect()
        frames_before = len(self.frames)
        await self.send({"type": "hello", **fields})

        def answered() -> bool:
            return any(f["type"] in ("welcome", "error") for f in self.frames[frames_before:])

        await self.wait_for(answered, within, allow_closed=True)
        for f in self.frames[frames_before:]:
            if f["type"] == "welcome":
                return f
            if f["type"] == "error":
                code = await self.wait_closed(within)
                raise Refused(code, f["error"])
        raise Refused(self.close_code, None)

    def _reader_done(self) -> bool:
        return self._reader is None or self._reader.done()

    async def join(self, code: str, *, token: str | None = None, since: int | None = None,
                   lang: str | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"role": "participant", "code": code, "token": token,
                                  "since": since}
        if lang:
            fields["lang"] = lang
        self.hello_fields = fields
        return await self.hello(**fields)

    async def staff(self, role: str, workshop: str, key: str, *, since: int | None = None,
                    lang: str | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"role": role, "workshop": workshop, "key": key,
                                  "since": since}
        if lang:
            fields["lang"] = lang
        self.hello_fields = fields
        return await self.hello(**fields)

    async def resume(self, *, since: int | None = -1) -> dict[str, Any]:
        """Reconnect on a new socket with the same identity; `since` defaults to our seq."""
        await self.drop()
        fields = dict(self.hello_fields)
        if fields.get("role") == "participant":
            fields["token"] = self.token
        fields["since"] = self.seq if since == -1 else since
        return await self.hello(**fields)

    async def twin(self) -> Client:
        """A fresh socket with the same identity and no `since` (a page reload)."""
        other = Client(self.ws_url.replace("ws", "http", 1).rsplit("/ws", 1)[0],
                       name=f"{self.name}-twin", origin=self.origin)
        fields = {**self.hello_fields, "since": None}
        if fields.get("role") == "participant":
            fields["token"] = self.token
        await other.hello(**fields)
        other.hello_fields = fields
        return other

    async def drop(self) -> None:
        """Close the socket from our side (as a phone that loses its Wi-Fi)."""
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    close = drop

    # -- ops
    def new_op_id(self) -> str:
        return f"{self._op_prefix}-{next(self._op_counter)}"

    async def op(self, op: str, args: dict[str, Any] | None = None, *, op_id: str | None = None,
                 within: float = 10.0) -> dict[str, Any]:
        """Send one op; returns its ack or nack frame."""
        op_id = op_id or self.new_op_id()
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[op_id] = fut
        await self.send({"type": "op", "op_id": op_id, "op": op, "args": args or {}})
        try:
            return await asyncio.wait_for(fut, within)
        finally:
            self._pending.pop(op_id, None)

    async def ok(self, op: str, args: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        """An op that must be acked; returns the ack."""
        answer = await self.op(op, args, **kw)
        assert answer["type"] == "ack", f"{self.name}: {op} {args} -> {answer}"
        return answer

    async def refused(self, op: str, args: dict[str, Any] | None = None,
                      **kw: Any) -> dict[str, Any]:
        """An op that must be nacked; returns the error body."""
        answer = await self.op(op, args, **kw)
        assert answer["type"] == "nack", f"{self.name}: {op} {args} -> {answer}"
        assert set(answer["error"]) >= {"code", "message"}, answer
        error: dict[str, Any] = answer["error"]
        return error

    # -- waiting
    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0, *,
                       allow_closed: bool = False, what: str = "") -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not predicate():
            if not allow_closed and self._reader_done():
                raise AssertionError(
                    f"{self.name}: socket closed ({self.close_code} {self.close_reason}) "
                    f"while waiting for {what or predicate}")
            if allow_closed and self._reader_done():
                return
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"{self.name}: timed out waiting for {what or predicate}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def wait_seq(self, seq: int, within: float = 10.0) -> None:
        await self.wait_for(lambda: self.seq >= seq, within, what=f"seq {seq}")

    async def wait_event(self, kind: str, pred: Callable[[dict[str, Any]], bool] | None = None,
                         within: float = 10.0, start: int = 0) -> dict[str, Any]:
        """The first event of `kind` (from index `start` of self.events) matching pred."""
        found: list[dict[str, Any]] = []

        def seen() -> bool:
            for ev in self.events[start:]:
                if ev["kind"] == kind and (pred is None or pred(ev["data"])):
                    found.append(ev)
                    return True
            return False

        await self.wait_for(seen, within, what=f"event {kind}")
        return found[0]

    async def wait_closed(self, within: float = 10.0) -> int | None:
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reader), within)
        return self.close_code

    async def ping(self, within: float = 10.0) -> None:
        """A ping/pong round trip: the server still serves this socket."""
        t = secrets.token_hex(4)
        start = len(self.frames)
        await self.send({"type": "ping", "t": t})
        await self.wait_for(
            lambda: any(f["type"] == "pong" and f.get("t") == t for f in self.frames[start:]),
            within, what="pong")


async def close_all(*clients: Client) -> None:
    await asyncio.gather(*(c.drop() for c in clients), return_exceptions=True)

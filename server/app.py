"""The application: create_app(settings) wires the store, the hub and the routes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, cast

import jinja2
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, ExceptionHandler, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from server.admission import Admission
from server.api import api_routes
from server.api_plans import plan_routes
from server.config import Settings
from server.embedded import EmbeddedValkey, lock_data_dir
from server.hub import Hub
from server.lan import lan_addresses
from server.log_format import announce, use_json_logs
from server.metrics_http import metrics_routes, watch
from server.ratelimit import Limiter
from server.report import report_routes
from server.security import SameOriginWrites, SecurityHeaders, keep_addresses_out_of_logs
from server.sockets import ws_asgi, ws_endpoint
from server.store import STORE_ERRORS, Bounds, Store

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("samenspel")


def settle_garbage_collector() -> None:
    """Leave what start-up made (modules, the app, ~100k objects) out of every later
    garbage collection, and collect young objects less often: a hall of thousands of
    sockets is hundreds of thousands of long-lived objects, and each full collection
    walked all of them (a fifth of a join's CPU; docs/benchmarks.md, "Issue 14")."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def promote_survivors() -> None:
    """The young objects that outlived a young collection (a join's socket, its session,
    its queue: thousands under a burst) moved on to the old generation within a second,
    by a middle collection, instead of after 20 young ones: those would come due in
    whatever follows the burst (a vote storm a second later), and walk every socket
    made in it (~100 ms for 1,000 phones, 8 % of the storm; docs/benchmarks.md,
    "Issue 14"). Nothing when no young collection ran since the last middle one."""
    if gc.get_count()[1]:
        gc.collect(1)


def pace_collections(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """promote_survivors once a second; returns the function that stops it."""
    handle: asyncio.TimerHandle | None = None

    def tick() -> None:
        nonlocal handle
        promote_survivors()
        handle = loop.call_later(PROMOTE_SECONDS, tick)

    handle = loop.call_later(PROMOTE_SECONDS, tick)

    def stop() -> None:
        if handle is not None:
            handle.cancel()
    return stop


# Young objects between collections (default 700); young collections per middle one
# (10); middle per full one (10). A full collection also waits until a quarter more
# long-lived objects piled up since the last, whatever these say.
GC_THRESHOLDS = (7000, 20, 20)
PROMOTE_SECONDS = 1.0


class App(Starlette):
    """Starlette, with the socket endpoint taken before the middleware stack. The page
    middlewares pass a WebSocket through untouched, but each layer would stay suspended
    for the socket's whole life (about 5 KB of a socket's memory) and wrap every frame
    it is sent (docs/benchmarks.md, "Issue 14: a bigger hall")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ws_app: ASGIApp = ws_asgi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and route_path(scope) == WS_PATH:
            scope["app"] = self
            await self.ws_app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


WS_PATH = "/ws"


def route_path(scope: Scope) -> str:
    """The path without the app's root path, as Starlette's router matches it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal settings
        assert settings is not None
        # The one place the embedded Valkey starts (for `python -m server` and for
        # `uvicorn --factory` alike): here, in the event loop's thread, which is the main
        # thread, so that PDEATHSIG ties Valkey to the app's whole life.
        valkey: EmbeddedValkey | None = None
        supervisor: asyncio.Task[None] | None = None
        if settings.redis_url is None:
            lock_data_dir(settings.data_dir)
            valkey = EmbeddedValkey(settings.data_dir, maxmemory=settings.valkey_maxmemory)
            valkey.start()
            settings = dataclasses.replace(settings, redis_url=valkey.url)
            announce(f"Embedded Valkey on {valkey.shown_url}, data in {valkey.data_dir}",
                     settings.log_format == "json")
        assert settings.redis_url is not None
        bounds = Bounds(settings.answer_ttl_ms, settings.answers_per_actor,
                        settings.notes_per_participant, settings.notes_per_workshop)
        store = Store.from_url(settings.redis_url, settings.retention_ms, settings.stream_maxlen,
                               bounds, settings.redis_wait_replicas)
        if store.cluster:
            log.info("REDIS_URL names a Redis Cluster node: using the cluster client")
        if valkey is not None:
            supervisor = asyncio.create_task(valkey.supervise(store.drop_idle_connections),
                                             name="valkey-supervisor")
        hub = Hub(store, settings.tick_seconds, settings.send_queue_max,
                  settings.phone_window_per_socket)
        app.state.settings = settings
        app.state.store = store
        app.state.hub = hub
        app.state.limiter = Limiter(store)
        app.state.admission = Admission(app.state.limiter, settings)
        await hub.start()
        unwatch = watch(hub)
        settle_garbage_collector()
        unpace = pace_collections(asyncio.get_running_loop())
        try:
            yield
        finally:
            unpace()
            unwatch()
            await hub.stop()
            hub.sorting.stop()
            await store.close()
            if valkey is not None:
                valkey.stop()
            if supervisor is not None:
                supervisor.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await supervisor

    from server.pages import page_routes

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROOT / "templates")), autoescape=True
    )
    templates = Jinja2Templates(env=env)
    routes = [
        *api_routes(),
        *report_routes(),
        *plan_routes(),
        *metrics_routes(),
        WebSocketRoute(WS_PATH, ws_endpoint),
        *page_routes(),
        # Scripts and styles gzipped (a phone on a slow network loads a third of the bytes);
        # pages are not: they carry keys beside words a visitor chooses (BREACH).
        Mount("/static", GZipMiddleware(StaticFiles(directory=str(ROOT / "static")),
                                        minimum_size=500), name="static"),
    ]
    from server.error_pages import not_found, server_error, store_unavailable

    # Store down, frozen or full: a calm 503 page (or `try_again`), not a 500 traceback.
    # An unknown address and a server error get the app's own page, in the visitor's
    # language (a JSON route: a JSON error).
    handlers: dict[Any, ExceptionHandler] = dict.fromkeys(STORE_ERRORS, store_unavailable)
    handlers[404] = not_found
    handlers[Exception] = server_error
    app = App(routes=routes, lifespan=lifespan, exception_handlers=handlers)
    app.state.settings = settings
    app.state.templates = templates
    # Found once: the control screen names them when opened through a loopback address.
    app.state.lan_addresses = lan_addresses()
    app.add_middleware(SameOriginWrites)
    app.add_middleware(SecurityHeaders)  # outside the write guard: refusals get it too
    if settings.forwarded_allow_ips:
        # Outermost, so that the security headers (HSTS) and the limits see the client's
        # scheme and address. Only here: uvicorn's own proxy headers are switched off
        # (server/__main__.py, Procfile), as it trusts 127.0.0.1 by default.
        app.add_middleware(ProxyHeadersMiddleware,
                           trusted_hosts=list(settings.forwarded_allow_ips))
        # The same for the socket, which the middleware stack does not see (App).
        app.ws_app = cast(ASGIApp, ProxyHeadersMiddleware(
            cast(Any, ws_asgi), trusted_hosts=list(settings.forwarded_allow_ips)))
    keep_addresses_out_of_logs()
    if settings.log_format == "json":
        use_json_logs()
    return app

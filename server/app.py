"""The application: create_app(settings) wires the store, the hub and the routes."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.routing import Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from server.api import api_routes
from server.config import Settings
from server.embedded import EmbeddedValkey
from server.hub import Hub
from server.ratelimit import Limiter
from server.report import report_routes
from server.security import SecurityHeaders, keep_addresses_out_of_logs
from server.sockets import ws_endpoint
from server.store import Bounds, Store

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("samenspel")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal settings
        assert settings is not None
        valkey: EmbeddedValkey | None = None
        if settings.redis_url is None:
            valkey = EmbeddedValkey(settings.data_dir)
            valkey.start()
            settings = dataclasses.replace(settings, redis_url=valkey.url)
        assert settings.redis_url is not None
        bounds = Bounds(settings.answer_ttl_ms, settings.answers_per_actor,
                        settings.notes_per_participant, settings.notes_per_workshop)
        store = Store.from_url(settings.redis_url, settings.retention_ms, settings.stream_maxlen,
                               bounds)
        hub = Hub(store, settings.tick_seconds, settings.send_queue_max,
                  settings.phone_window_per_socket)
        app.state.settings = settings
        app.state.store = store
        app.state.hub = hub
        app.state.limiter = Limiter(store)
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
            await store.close()
            if valkey is not None:
                valkey.stop()

    from server.pages import page_routes

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROOT / "templates")), autoescape=True
    )
    templates = Jinja2Templates(env=env)
    routes = [
        *api_routes(),
        *report_routes(),
        WebSocketRoute("/ws", ws_endpoint),
        *page_routes(),
        Mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.templates = templates
    app.add_middleware(SecurityHeaders)
    keep_addresses_out_of_logs()
    return app

"""`GET /metrics`: this process's counters (server/metrics.py) in the Prometheus text
format, only with METRICS_TOKEN set and only to `Authorization: Bearer <METRICS_TOKEN>`.

Anything else gets the same plain 404 as an unknown address, so that the route says
nothing about itself to a visitor who guesses (the contract: "404 otherwise"). An
operator whose scraper is refused finds a log line saying so (at most one a minute,
without the token that was sent).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client import REGISTRY, generate_latest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from server import metrics
from server.hub import Hub

log = logging.getLogger("samenspel.metrics")

# The text format every Prometheus reads (our names and labels need none of 1.0.0's
# escaping, so the body is the same).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REFUSAL_LOG_SECONDS = 60.0
_last_refusal_logged = [-REFUSAL_LOG_SECONDS]


def token_matches(header: str, token: str) -> bool:
    """`Bearer <token>`, compared in constant time."""
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode())


async def serve_metrics(request: Request) -> Response:
    token: str | None = request.app.state.settings.metrics_token
    if token is None:
        return PlainTextResponse("Not Found", status_code=404)
    if not token_matches(request.headers.get("authorization", ""), token):
        now = time.monotonic()
        if now - _last_refusal_logged[0] >= REFUSAL_LOG_SECONDS:
            _last_refusal_logged[0] = now
            log.warning("GET /metrics refused: no or a wrong bearer token (METRICS_TOKEN); "
                        "the scraper gets 404")
        return PlainTextResponse("Not Found", status_code=404)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE,
                    headers={"cache-control": "no-store"})


def metrics_routes() -> list[BaseRoute]:
    return [Route("/metrics", serve_metrics, methods=["GET"])]


def watch(hub: Hub) -> Callable[[], None]:
    """Count the hub's sockets and windows on every scrape; returns what stops it."""

    def rooms() -> Iterator[metrics.RoomNow]:
        for feed in list(hub.feeds.values()):
            roles = [c.viewer.role for c in feed.clients]
            yield roles, feed.phones.window(roles.count("participant"))

    return metrics.watch_rooms(rooms)

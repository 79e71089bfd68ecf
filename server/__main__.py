"""`python -m server`: the app on uvicorn; without REDIS_URL its lifespan starts the
embedded Valkey (see server/app.py and server/embedded.py)."""

from __future__ import annotations

import logging
import sys

import uvicorn
import uvicorn.config

from server.app import create_app
from server.config import Settings
from server.embedded import DataDirBusy, lock_data_dir
from server.lan import lan_addresses, startup_lines
from server.log_format import START_LOGGER, announce, use_json_logs

# Seconds open sockets get to close (1012) after SIGTERM; the Procfile says the same
# (--timeout-graceful-shutdown; tests/unit/test_procfile.py keeps them equal).
GRACEFUL_SHUTDOWN_SECONDS = 5


def main() -> int:
    settings = Settings.from_env()
    json_logs = settings.log_format == "json"
    if json_logs:
        use_json_logs()
    if settings.redis_url is None:
        # Refuse a second app on the same data folder before anything starts, with a
        # plain message (the lifespan takes the same lock again: a no-op here).
        try:
            lock_data_dir(settings.data_dir)
        except DataDirBusy as busy:
            if json_logs:
                logging.getLogger(START_LOGGER).error(str(busy))
            else:
                print(busy, file=sys.stderr, flush=True)
            return 3
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    announce(f"Samenspel: open {base}/ to start or join a workshop", json_logs)
    # Can phones reach this? On loopback they cannot: say so, with the LAN addresses and
    # the command that listens on them (docs/deployment.md, "A laptop and phones").
    for line in startup_lines(settings.host, settings.port, settings.public_url,
                              lan_addresses()):
        announce(f"Samenspel: {line}", json_logs)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_max_size=16 * 1024,
        ws_per_message_deflate=False,
        # Proxy headers are read by the app, only from FORWARDED_ALLOW_IPS
        # (server/app.py); uvicorn's own would trust 127.0.0.1 by default.
        proxy_headers=False,
        log_level="info",
        access_log=False,  # request lines carry keys in query strings: never log them
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        # JSON logs: uvicorn adds no handlers of its own; its lines reach the root
        # logger's JSON handler (server/log_format.py).
        log_config=None if json_logs else uvicorn.config.LOGGING_CONFIG,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m server`: start the embedded Valkey when REDIS_URL is unset, then the app."""

from __future__ import annotations

import dataclasses
import signal
import sys
from types import FrameType

import uvicorn

from server.app import create_app
from server.config import Settings
from server.embedded import EmbeddedValkey


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    settings = Settings.from_env()
    valkey: EmbeddedValkey | None = None
    if settings.redis_url is None:
        valkey = EmbeddedValkey(settings.data_dir)
        valkey.start()
        settings = dataclasses.replace(settings, redis_url=valkey.url)
        print(f"Embedded Valkey on {valkey.url}, data in {valkey.data_dir}", flush=True)
        # uvicorn re-raises SIGTERM after its graceful shutdown; the default handler would
        # then end the process before `finally` stops Valkey, leaving it running on the
        # data folder. Exit through `finally` instead (status 143, as for SIGTERM).
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    print(f"Samenspel: open {base}/ to start or join a workshop", flush=True)
    try:
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
            timeout_graceful_shutdown=5,
        )
    finally:
        if valkey is not None:
            valkey.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

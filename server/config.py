"""Settings, read from the environment once. No other module reads os.environ."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from server import rules


@dataclass(frozen=True)
class Settings:
    # Redis to use; None means: start the embedded Valkey server in data_dir.
    redis_url: str | None = None
    # An op's ack waits until this many replicas have its writes (Redis WAIT); 0: acked
    # once the master has it. See docs/reliability.md for what each promises.
    redis_wait_replicas: int = 0
    # Where the embedded Valkey keeps its append-only file.
    data_dir: Path = Path("data")
    # Memory cap of the embedded Valkey (Valkey's units: "256mb", "1gb"; "0": no cap). A
    # write past it is refused (noeviction) and the app answers `try_again`: nothing is
    # dropped silently. Ignored with REDIS_URL (set maxmemory on that server yourself).
    valkey_maxmemory: str = "256mb"
    # Interface and port that `python -m server` binds.
    host: str = "127.0.0.1"
    port: int = 8000
    # Absolute base URL as seen by phones (behind a proxy); None: derive from the request.
    public_url: str | None = None
    # Days a workshop is kept after its last change (a fraction is allowed, for tests).
    retention_days: float = 30
    # Extra origins allowed to open the WebSocket (the app's own origin always is).
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    # Events kept per workshop stream for resuming clients (older ones get a snapshot).
    stream_maxlen: int = 10_000
    # Seconds between two fan-out rounds of the hub: events in one round share a frame.
    tick_seconds: float = 0.03
    # Phones' batch window per phone in the room (seconds); it applies once longer than a
    # tick (see server/phone_batches.py). Lower on a faster machine, higher on a slower one.
    phone_window_per_socket: float = 0.000075
    # Frames queued for one socket before it counts as stuck and is dropped.
    send_queue_max: int = 256
    # Workshops one address may create per hour.
    creates_per_hour: int = 30
    # Failed join codes or keys one address (an IPv6 /64) may try per minute.
    failures_per_minute: int = 20
    # Wrong join codes per minute over all addresses together; past it, typed codes wait
    # (a QR link, a token or a key still enters). See docs/security.md for the maths.
    guesses_per_minute: int = 600
    # A join code is long enough that one guess hits an open code with a chance of at most
    # 1 in this many (6 digits while few workshops exist, up to 10).
    code_odds: int = 100_000
    # New joins per address (an IPv6 /64): a steady rate and a burst; a join over it waits.
    joins_per_second: float = 10.0
    join_burst: int = 60
    # Addresses (or networks) of proxies whose X-Forwarded-For/-Proto are trusted; none by
    # default, so that no client can pick its own address.
    forwarded_allow_ips: tuple[str, ...] = field(default_factory=tuple)
    # Bounds on what a workshop stores (defaults in server/rules.py): hours an op's answer
    # is kept for a resend (a fraction is allowed, for tests), answers kept per client,
    # notes per participant and per workshop.
    answer_hours: float = rules.ANSWER_TTL_MS / 3_600_000
    answers_per_actor: int = rules.ANSWERS_PER_ACTOR
    notes_per_participant: int = rules.NOTES_PER_PARTICIPANT
    notes_per_workshop: int = rules.NOTES_PER_WORKSHOP
    # The Bearer token Prometheus sends for GET /metrics; None: no /metrics (404).
    metrics_token: str | None = None
    # "plain" (uvicorn's lines as they are) or "json" (one JSON object per line).
    log_format: str = "plain"

    @property
    def retention_ms(self) -> int:
        return max(1000, int(self.retention_days * 24 * 3600 * 1000))

    @property
    def answer_ttl_ms(self) -> int:
        return max(1, int(self.answer_hours * 3600 * 1000))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        origins = _split(e.get("ALLOWED_ORIGINS", ""))
        return cls(
            redis_url=e.get("REDIS_URL") or None,
            redis_wait_replicas=int(e.get("REDIS_WAIT_REPLICAS", "0") or 0),
            data_dir=Path(e.get("DATA_DIR", "data")),
            valkey_maxmemory=e.get("VALKEY_MAXMEMORY", "256mb").strip() or "256mb",
            host=e.get("HOST", "127.0.0.1"),
            port=int(e.get("PORT", "8000")),
            public_url=(e.get("PUBLIC_URL") or "").rstrip("/") or None,
            retention_days=float(e.get("RETENTION_DAYS", "30")),
            allowed_origins=origins,
            stream_maxlen=int(e.get("STREAM_MAXLEN", "10000")),
            tick_seconds=float(e.get("TICK_SECONDS", "0.03")),
            phone_window_per_socket=float(e.get("PHONE_WINDOW_PER_SOCKET", "0.000075")),
            send_queue_max=int(e.get("SEND_QUEUE_MAX", "256")),
            creates_per_hour=int(e.get("CREATES_PER_HOUR", "30")),
            failures_per_minute=int(e.get("FAILURES_PER_MINUTE", "20")),
            guesses_per_minute=int(e.get("GUESSES_PER_MINUTE", "600")),
            code_odds=int(e.get("CODE_ODDS", "100000")),
            joins_per_second=float(e.get("JOINS_PER_SECOND", "10")),
            join_burst=int(e.get("JOIN_BURST", "60")),
            forwarded_allow_ips=_split(e.get("FORWARDED_ALLOW_IPS", "")),
            answer_hours=float(e.get("ANSWER_HOURS", str(cls.answer_hours))),
            answers_per_actor=int(e.get("ANSWERS_PER_ACTOR", str(cls.answers_per_actor))),
            notes_per_participant=int(
                e.get("NOTES_PER_PARTICIPANT", str(cls.notes_per_participant))),
            notes_per_workshop=int(e.get("NOTES_PER_WORKSHOP", str(cls.notes_per_workshop))),
            metrics_token=e.get("METRICS_TOKEN", "").strip() or None,
            log_format="json" if e.get("LOG_FORMAT", "").strip().lower() == "json" else "plain",
        )


def _split(value: str) -> tuple[str, ...]:
    """A comma-separated list, without blanks."""
    return tuple(item.strip() for item in value.split(",") if item.strip())

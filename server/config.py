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
    # Where the embedded Valkey keeps its append-only file.
    data_dir: Path = Path("data")
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
    # tick (see server/hub.py). Lower on a faster machine, higher on a slower one.
    phone_window_per_socket: float = 0.000075
    # Frames queued for one socket before it counts as stuck and is dropped.
    send_queue_max: int = 256
    # Workshops one address may create per hour.
    creates_per_hour: int = 30
    # Failed join codes or keys one address may try per minute.
    failures_per_minute: int = 20
    # Bounds on what a workshop stores (defaults in server/rules.py): hours an op's answer
    # is kept for a resend (a fraction is allowed, for tests), answers kept per client,
    # notes per participant and per workshop.
    answer_hours: float = rules.ANSWER_TTL_MS / 3_600_000
    answers_per_actor: int = rules.ANSWERS_PER_ACTOR
    notes_per_participant: int = rules.NOTES_PER_PARTICIPANT
    notes_per_workshop: int = rules.NOTES_PER_WORKSHOP

    @property
    def retention_ms(self) -> int:
        return max(1000, int(self.retention_days * 24 * 3600 * 1000))

    @property
    def answer_ttl_ms(self) -> int:
        return max(1, int(self.answer_hours * 3600 * 1000))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        origins = tuple(o.strip() for o in e.get("ALLOWED_ORIGINS", "").split(",") if o.strip())
        return cls(
            redis_url=e.get("REDIS_URL") or None,
            data_dir=Path(e.get("DATA_DIR", "data")),
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
            answer_hours=float(e.get("ANSWER_HOURS", str(cls.answer_hours))),
            answers_per_actor=int(e.get("ANSWERS_PER_ACTOR", str(cls.answers_per_actor))),
            notes_per_participant=int(
                e.get("NOTES_PER_PARTICIPANT", str(cls.notes_per_participant))),
            notes_per_workshop=int(e.get("NOTES_PER_WORKSHOP", str(cls.notes_per_workshop))),
        )

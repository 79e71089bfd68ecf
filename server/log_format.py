"""How log lines look: uvicorn's plain lines (the default), or with LOG_FORMAT=json one
JSON object per line: `ts` (UTC, ISO 8601), `level`, `logger`, `msg`, and the record's
extra fields; a traceback as `exc`.

The filters of server/security.py (no client addresses, no query strings) sit on the
loggers, so they have done their work before a record is formatted, in either format.
Works for both ways of starting: `python -m server` (server/__main__.py calls
`use_json_logs` before uvicorn starts) and `uvicorn --factory` (the Procfile: uvicorn
set up its handlers before it called create_app, which gives them this formatter).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
START_LOGGER = "samenspel.start"
# A LogRecord's own attributes: everything else on it came as `extra=` and is a field.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# uvicorn repeats its message with terminal colours as an extra: not a field.
_LEFT_OUT = frozenset({"color_message"})


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _RECORD_ATTRS and name not in _LEFT_OUT and name not in line:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return orjson.dumps(line, default=str).decode()


def use_json_logs() -> None:
    """Every log line as JSON: uvicorn's handlers (when it has made them) and one on the
    root logger for everything else (the app's own loggers), on stderr. Idempotent."""
    formatter = JsonLines()
    for name in UVICORN_LOGGERS:
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(formatter)
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonLines) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        root.addHandler(handler)
    logging.getLogger(START_LOGGER).setLevel(logging.INFO)


def announce(line: str, json_logs: bool) -> None:
    """A line for the person who started the server (where to open it, where the data
    is): printed as it is, or with JSON logs a log line like every other."""
    if json_logs:
        logging.getLogger(START_LOGGER).info(line)
    else:
        print(line, flush=True)

"""What every log line carries (time, level, process role, request id) and its two shapes: text or JSON lines.

`engine.logsafe.configure_logging` installs this for every process; the web app sets the request id per request
(`request_id.set(...)`), so every record logged while serving it carries the id, whichever logger wrote it.
"""
from __future__ import annotations

import json
import logging
import threading
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Callable

ROLES = ("web", "worker", "bot", "dev")  # `run.py` commands that are processes; every other command is "cli"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(role)s %(name)s %(request_id)s %(message)s"
NO_REQUEST = "-"
# Extra record attributes a JSON line carries when a logger sets them (the access log does).
JSON_EXTRAS = ("method", "path", "status", "duration_ms")

request_id: ContextVar[str | None] = ContextVar("helpdesk_request_id", default=None)
_role = {"value": "cli"}
_lock = threading.Lock()
_installed = False


def role_for(command: str | None) -> str:
    """The role a `run.py` command logs as."""
    return command if command in ROLES else "cli"


def process_role() -> str:
    return _role["value"]


def install_context(role: str) -> None:
    """From now on every record gets `role` (this process's) and `request_id` (the current request's, or "-")."""
    global _installed
    _role["value"] = role
    with _lock:
        if _installed:
            return
        _installed = True
    make_record = logging.getLogRecordFactory()

    def record_with_context(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.role = _role["value"]
        record.request_id = request_id.get() or NO_REQUEST
        return record

    logging.setLogRecordFactory(record_with_context)


class TextFormatter(logging.Formatter):
    """One line per record (a traceback follows on its own lines); tolerant of records made before the context."""

    def __init__(self):
        super().__init__(TEXT_FORMAT, defaults={"role": process_role(), "request_id": NO_REQUEST})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, role, request_id, message, exc_info and stack_info when present.

    Messages and tracebacks arrive redacted (engine.logsafe's record factory); every text value is passed through
    `redact` again here, for the extras a logger passes: `extra=` is applied after the record factory has run.
    """

    def __init__(self, redact: Callable[[str], str] = str):
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "role": getattr(record, "role", process_role()),
            "request_id": getattr(record, "request_id", NO_REQUEST),
            "message": self.redact(record.getMessage()),
        }
        for key in JSON_EXTRAS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = self.redact(value) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = self.redact(record.exc_text)
        if record.stack_info:
            entry["stack_info"] = self.redact(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def make_formatter(log_format: str | None, redact: Callable[[str], str] = str) -> logging.Formatter:
    """`LOG_FORMAT=json` gives JsonFormatter (its text values passed through `redact`); anything else (unset,
    "text") the one-line text format."""
    return JsonFormatter(redact) if (log_format or "").strip().lower() == "json" else TextFormatter()

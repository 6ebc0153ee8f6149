"""Process logging with secrets redacted: bot tokens, SECRET_KEY, URL passwords, Bearer tokens.

`configure_logging()` is called once by every process (`run.py` before any command); it redacts every
log record of every logger, its formatted args, exception text and stack, before any handler sees it.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import threading
from urllib.parse import quote, unquote, urlsplit

from engine import logformat

MARKER = "[REDACTED]"
MIN_SECRET = 6  # shorter values (FOO_TOKEN=1) would blank out ordinary text

_PATTERNS = (
    (re.compile(r"(bot\d+(?::|%3A))[A-Za-z0-9_-]+", re.IGNORECASE), rf"\g<1>{MARKER}"),  # Bot API URL paths
    (re.compile(r"(\bBearer\s+)[^\s'\",;]+", re.IGNORECASE), rf"\g<1>{MARKER}"),  # Authorization headers
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]*:)[^\s@/'\"]+@", re.IGNORECASE), rf"\g<1>{MARKER}@"),  # URL passwords
)
_secrets: tuple[str, ...] = ()  # longest first; replaced as a whole, so readers never need the lock
_lock = threading.Lock()
_installed = False


def add_secret(value: str | None) -> None:
    """Redact `value` (and its URL-quoted form) from every log record from now on."""
    if not value or len(value) < MIN_SECRET:
        return
    global _secrets
    with _lock:
        _secrets = tuple(sorted(set(_secrets) | {value, quote(value, safe="")}, key=len, reverse=True))


def secrets_in_env(environ) -> list[str]:
    """Every *_TOKEN value, SECRET_KEY, AWS_SECRET_ACCESS_KEY, and the password inside every *_URL value."""
    found = []
    for name, value in environ.items():
        if name.endswith("_TOKEN") or name in ("SECRET_KEY", "AWS_SECRET_ACCESS_KEY"):
            found.append(value)
        elif name.endswith("_URL"):
            try:
                password = urlsplit(value).password
            except ValueError:
                continue
            if password:
                found += [password, unquote(password)]
    return found


def redact(text: str) -> str:
    """`text` with every known secret and every secret-looking pattern replaced by MARKER."""
    for secret in _secrets:
        text = text.replace(secret, MARKER)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record in place: message with args merged, exception text and stack info, all redacted."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg, record.args = redact(record.getMessage()), ()
        except Exception:  # a record whose args do not fit its message: keep both, redacted as text
            record.msg, record.args = redact(f"{record.msg!r} {record.args!r}"), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            record.exc_info = None  # a handler would format the raw exception again otherwise
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(environ=None) -> None:
    """Redact the environment's secrets from every record created from now on, whichever logger or handler."""
    global _installed
    for value in secrets_in_env(os.environ if environ is None else environ):
        add_secret(value)
    with _lock:
        if _installed:
            return
        _installed = True
    make_record, redactor = logging.getLogRecordFactory(), RedactingFilter()

    def redacted_record(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        redactor.filter(record)
        return record

    logging.setLogRecordFactory(redacted_record)
    sys.excepthook, threading.excepthook = _log_uncaught, _log_uncaught_in_thread


def _log_uncaught(kind, exc, tb) -> None:
    """Uncaught exceptions go through logging (redacted) instead of a raw traceback on stderr."""
    if issubclass(kind, KeyboardInterrupt):
        return sys.__excepthook__(kind, exc, tb)
    logging.getLogger("uncaught").critical("uncaught exception", exc_info=(kind, exc, tb))


def _log_uncaught_in_thread(hook) -> None:
    if hook.exc_type is not SystemExit:
        logging.getLogger("uncaught").critical("uncaught exception in thread %s", getattr(hook.thread, "name", "?"),
                                               exc_info=(hook.exc_type, hook.exc_value, hook.exc_traceback))


def configure_logging(level: int | None = None, environ=None, role: str | None = None) -> None:
    """The logging setup of every process: one line per record to stderr (JSON with LOG_FORMAT=json) carrying time,
    level, process role and request id; LOG_LEVEL (default INFO); secrets redacted; waitress's queue noise muted."""
    env = os.environ if environ is None else environ
    logformat.install_context(logformat.role_for(role))
    handler = logging.StreamHandler()
    handler.setFormatter(logformat.make_formatter(env.get("LOG_FORMAT"), redact))
    level = level or logging.getLevelName(str(env.get("LOG_LEVEL") or "INFO").upper())
    logging.basicConfig(level=level if isinstance(level, int) else logging.INFO, handlers=[handler])
    # waitress warns "Task queue depth is N" whenever all its threads are busy: load, not a fault (readiness and
    # the request latency metric show it); its real errors are still logged.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    install_redaction(environ)

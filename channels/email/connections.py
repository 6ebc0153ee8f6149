"""SMTP connections kept open across deliveries, one per worker thread and SMTP URL, with a deadline per message.

Opening a connection costs the greeting, EHLO, maybe STARTTLS and AUTH: several round trips that used to be paid
for every message. A kept connection is checked with NOOP when it sat idle, replaced when the server dropped it or
it idled past MAX_IDLE, and closed with QUIT when the process exits.
"""
from __future__ import annotations

import atexit
import smtplib
import socket
import ssl
import threading
import time
from urllib.parse import parse_qs, unquote, urlsplit

from engine.errors import PermanentDeliveryError

SEND_TIMEOUT = 20.0  # seconds: the most one message may take, connecting included (the email channel's send_timeout)
CONNECT_TIMEOUT = 10.0  # seconds for the TCP connection and the greeting
CHECK_AFTER = 1.0  # seconds idle after which a kept connection is checked with NOOP before use
MAX_IDLE = 60.0  # seconds idle after which a kept connection is closed rather than reused


class _Deadline:
    """An SMTP client whose every command waits at most until `deadline` (time.monotonic()) for its reply."""

    deadline: float = float("inf")

    def send(self, s):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("the SMTP send took longer than its deadline")
        if self.sock is not None:
            self.sock.settimeout(remaining)
        super().send(s)


class DeadlineSMTP(_Deadline, smtplib.SMTP):
    pass


class DeadlineSMTPSSL(_Deadline, smtplib.SMTP_SSL):
    pass


def connect(url: str, deadline: float) -> smtplib.SMTP:
    """A logged-in connection to `url` (smtp://, smtps://, ?starttls=1); PermanentDeliveryError for another scheme."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise PermanentDeliveryError(f"SMTP URL scheme must be smtp or smtps, not {parts.scheme!r}")
    host = parts.hostname or "localhost"
    timeout = max(0.1, min(CONNECT_TIMEOUT, deadline - time.monotonic()))
    if parts.scheme == "smtps":
        client = DeadlineSMTPSSL(host, parts.port or 465, timeout=timeout, context=ssl.create_default_context())
    else:
        client = DeadlineSMTP(host, parts.port or 25, timeout=timeout)
    client.deadline = deadline
    try:
        if parts.scheme == "smtp" and parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes"):
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
    except BaseException:
        client.close()
        raise
    return client


class _Kept:
    def __init__(self, client: smtplib.SMTP):
        self.client = client
        self.used_at = time.monotonic()


class SmtpConnections:
    """This process's kept connections: `client(url, deadline)` for a message, then `done(url)` or `discard(url)`."""

    def __init__(self):
        self._local = threading.local()
        self._all: set[_Kept] = set()
        self._lock = threading.Lock()
        self.opened = 0  # connections opened by this process (benchmarks, tests)

    def _kept(self) -> dict[str, _Kept]:
        if not hasattr(self._local, "kept"):
            self._local.kept = {}
        return self._local.kept

    def client(self, url: str, deadline: float) -> smtplib.SMTP:
        """A connection to `url` that answered recently or answers NOOP now, else a new one."""
        kept = self._kept().get(url)
        if kept is not None:
            idle = time.monotonic() - kept.used_at
            kept.client.deadline = deadline
            if idle < CHECK_AFTER or (idle < MAX_IDLE and _answers(kept.client)):
                return kept.client
            self.discard(url)
        client = connect(url, deadline)
        self.opened += 1
        kept = _Kept(client)
        self._kept()[url] = kept
        with self._lock:
            self._all.add(kept)
        return client

    def done(self, url: str) -> None:
        """The message went through: keep the connection for the next one."""
        kept = self._kept().get(url)
        if kept is not None:
            kept.used_at = time.monotonic()

    def discard(self, url: str) -> None:
        """Drop this thread's connection to `url` (after an error it may be in any state)."""
        kept = self._kept().pop(url, None)
        if kept is not None:
            with self._lock:
                self._all.discard(kept)
            _quit(kept.client)

    def close_all(self) -> None:
        """QUIT every kept connection (at exit; other threads' connections included)."""
        with self._lock:
            kept, self._all = list(self._all), set()
        for entry in kept:
            _quit(entry.client)
        self._local = threading.local()


def _answers(client: smtplib.SMTP) -> bool:
    try:
        return client.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _quit(client: smtplib.SMTP) -> None:
    client.deadline = time.monotonic() + 1.0
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


CONNECTIONS = SmtpConnections()
atexit.register(CONNECTIONS.close_all)

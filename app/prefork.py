"""`run.py web --workers N`: gunicorn's master forks N processes, each serving the app with `--threads` threads.

The master only binds the port and supervises: it never builds the app, so no database connection, Redis client or
thread crosses a fork. Each worker builds its own app (`app.wsgi.create_app`, which registers the channels), its own
PostgreSQL pool and Redis client, and its own liveness heartbeat. The limits are waitress's (`app.commands.web`):
the same body cap above Flask's, the same timeout for a silent client, the same connections per process.

Stop: SIGTERM to the master ends every worker gracefully (in-flight requests get GRACEFUL_STOP seconds, kept-alive
connections at most gunicorn's 2 s linger), then the master exits: within 5 s. SIGINT (Ctrl-C) stops at once.
"""
from __future__ import annotations

import logging
from typing import Callable

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from engine.settings import from_env

GRACEFUL_STOP = 3  # seconds a stopping worker finishes in-flight requests before the master kills it
HEARTBEAT_TIMEOUT = 30  # seconds a worker's main loop may stay silent before the master replaces it


class LoggingThroughRoot(glogging.Logger):
    """gunicorn's messages go through the process's own logging (engine.logformat: role, JSON, redaction) instead
    of gunicorn's handlers; its access log stays off: the app writes `helpdesk.access` with the request id."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in list(self.error_log.handlers):
            self.error_log.removeHandler(handler)
        self.error_log.propagate = True
        self.error_log.setLevel(logging.NOTSET)  # the root logger's level (LOG_LEVEL) decides


class BoundedThreadWorker(ThreadWorker):
    """gunicorn's threaded worker whose request sockets time out: gunicorn reads a body with no timeout, so a client
    that stops sending mid-upload would hold one of the threads for good."""

    silent_client_timeout = 30.0  # seconds a body read (or a response write) may make no progress; set by the server

    def handle_request(self, req, conn):
        conn.sock.settimeout(self.silent_client_timeout)
        return super().handle_request(req, conn)


class PreforkServer(BaseApplication):
    """gunicorn configured in code (no config file, no command line of its own); the app is loaded in each worker."""

    def __init__(self, host: str, port: int, workers: int, threads: int, connection_limit: int, body_margin: int,
                 silent_client_timeout: float):
        BoundedThreadWorker.silent_client_timeout = silent_client_timeout  # before the fork: every worker has it
        self.host, self.port, self.body_margin = host, port, body_margin
        self.options = {
            "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
            "workers": workers,
            "threads": threads,
            "worker_class": f"{__name__}.BoundedThreadWorker",
            "worker_connections": connection_limit,
            "preload_app": False,  # each worker builds its own app after the fork
            "timeout": HEARTBEAT_TIMEOUT,
            "graceful_timeout": GRACEFUL_STOP,
            "keepalive": 2,
            "proc_name": "helpdesk-web",
            "logger_class": f"{__name__}.LoggingThroughRoot",
            "accesslog": None,
            "control_socket_disable": True,  # its default path under $HOME would be shared by every instance
            # Forwarded headers are the app's business (TRUSTED_PROXIES applies werkzeug's ProxyFix), the same under
            # waitress and gunicorn: gunicorn itself trusts none (its default trusts loopback's X-Forwarded-Proto).
            "forwarded_allow_ips": "",
            "secure_scheme_headers": {},
            "when_ready": self._announce,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """In a worker, after the fork: the app, this process's heartbeat, and the server's body cap in front."""
        from app.wsgi import create_app
        from engine.liveness import start_heartbeat

        from web.security import server_body_limit

        app = create_app(settings=from_env())
        start_heartbeat(app.extensions["helpdesk_runtime"], "web", detail=f"{self.host}:{self.port} (gunicorn worker)")
        return body_cap(app, server_body_limit(app, self.body_margin))

    @staticmethod
    def _announce(arbiter) -> None:
        """The line a supervisor or test waits for, with the port the OS picked for port 0."""
        host, port = arbiter.LISTENERS[0].sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"Serving on http://{shown}:{port} ({arbiter.num_workers} processes)", flush=True)


def body_cap(app, limit: Callable[[], int]):
    """Refuse a declared body above `limit()` before the app reads a byte (waitress's max_request_body_size): the app's
    own limit sits below it and answers its localized 413 page; only far larger bodies get this plain one. `limit` is
    asked per request, so it follows a reload of the attachment policy."""

    def capped(environ, start_response):
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > limit():
            start_response("413 Request Entity Too Large", [("Content-Type", "text/plain; charset=utf-8"),
                                                            ("Connection", "close")])
            return [b"Request body too large\n"]
        return app(environ, start_response)

    capped.flask_app = app
    return capped


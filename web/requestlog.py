"""Per request: a request id in every log record and in the response, an access log line, the HTTP metrics.

The id is the client's `X-Request-ID` when it looks like one (a proxy or a caller tracing a request), otherwise a
new random one; it is echoed in the response's `X-Request-ID`. The access log (`helpdesk.access`) writes one INFO
line per request (method, path without the query's values, status, duration, request id); probes, /metrics and
static assets log at DEBUG, so a load balancer or Prometheus polling every few seconds adds no noise.
"""
from __future__ import annotations

import logging
import re
import time

from flask import Flask, Request, Response

from engine.logformat import request_id
from engine.unique_ids import unique_id

HEADER = "X-Request-ID"
ENVIRON_KEY = "HTTP_X_REQUEST_ID"
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")  # anything else (spaces, newlines, 1 KiB) is replaced
QUIET_ENDPOINTS = frozenset({"health.healthz", "health.readyz", "metrics.metrics"})
QUIET_BLUEPRINTS = frozenset({"assets"})
PATH_LIMIT = 300  # characters of a path the access log keeps
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\s]")

access_log = logging.getLogger("helpdesk.access")


def incoming_or_new(value: str | None) -> str:
    """The caller's request id when sane, else a fresh one (32 hex digits)."""
    if value and SANE_ID.fullmatch(value):
        return value
    return unique_id()


def loggable_path(request: Request) -> str:
    """The path, with control characters and spaces escaped (no forged log lines), and only the names of query
    parameters: their values may carry tokens or personal data."""
    path = _escape(request.path)[:PATH_LIMIT]
    if request.args:
        path += "?" + "&".join(_escape(name)[:40] for name in request.args)
    return path


def _escape(text: str) -> str:
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def begin(request: Request, g) -> None:
    """First of a request's steps (web.request_hooks): every later step, view and error handler logs with its id."""
    g.request_started = time.perf_counter()
    g.request_id = incoming_or_new(request.environ.get(ENVIRON_KEY))  # headers.get raises when it is absent
    g.request_id_token = request_id.set(g.request_id)


def finish(app: Flask, request: Request, g, response: Response) -> None:
    """The request id header, the HTTP metrics and the access log line of a response."""
    started = g.get("request_started")
    if started is None:  # a response made before our hook ran (another before_request answered first)
        return
    seconds = time.perf_counter() - started
    response.headers[HEADER] = g.request_id
    route = request.url_rule.rule if request.url_rule is not None else None
    metrics = app.extensions.get("helpdesk_metrics")
    if metrics is not None:
        metrics.observe(request.method, route, response.status_code, seconds)
    quiet = request.endpoint in QUIET_ENDPOINTS or request.blueprint in QUIET_BLUEPRINTS
    if not access_log.isEnabledFor(logging.DEBUG if quiet else logging.INFO):
        return
    path = loggable_path(request)
    method = _escape(request.method)[:20]
    access_log.log(logging.DEBUG if quiet else logging.INFO, "%s %s %s %.1fms", method, path,
                   response.status_code, seconds * 1000,
                   extra={"method": method, "path": path, "status": response.status_code,
                          "duration_ms": round(seconds * 1000, 1)})


def end(g) -> None:
    """The request id leaves the logging context."""
    token = g.pop("request_id_token", None)
    if token is not None:
        try:
            request_id.reset(token)
        except ValueError:  # torn down in another context (a test client keeping the context): leave it
            pass

"""`GET /metrics` for Prometheus: this process's HTTP series plus the deployment's state (engine.metrics).

Served to direct loopback connections (a Prometheus or agent on the same host), or to anyone sending
`Authorization: Bearer $METRICS_TOKEN`. A request that came through a proxy (X-Forwarded-For, Forwarded, X-Real-IP)
needs the token even from loopback: nginx in front of the app connects from 127.0.0.1 for every outside client.

HTTP counters and the latency histogram live in each web process. Scrape every process on its own port, or, for a
server that forks several processes behind one port (gunicorn), set PROMETHEUS_MULTIPROC_DIR to an empty folder
shared by them (prometheus-client's multiprocess mode): the scrape then sums every process's files.
"""
from __future__ import annotations

import hmac
import ipaddress
import os

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import PlatformCollector, ProcessCollector

from engine.metrics import HelpdeskCollector
from web.context import runtime

bp = Blueprint("metrics", __name__)
TOKEN_ENV = "METRICS_TOKEN"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "<unmatched>"  # the route label of a 404/405: raw paths would make a series per scanner probe
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class WebMetrics:
    """One web app's registry: per-process HTTP series and the scrape-time collector of its Runtime."""

    def __init__(self, rt):
        self.multiprocess_dir = os.environ.get(MULTIPROCESS_ENV) or None  # prometheus-client reads it at import too
        self.registry = CollectorRegistry(auto_describe=False)
        own = None if self.multiprocess_dir else self.registry  # multiprocess: values go to the shared files
        self.requests = Counter("helpdesk_http_requests", "HTTP requests by method, route (the URL rule, not the "
                                "path) and status.", ["method", "route", "status"], registry=own)
        self.latency = Histogram("helpdesk_http_request_duration_seconds", "Time from a request's arrival in Flask "
                                 "to its response, by method and route.", ["method", "route"], registry=own,
                                 buckets=LATENCY_BUCKETS)
        if own is not None:  # process_* and python_info describe one process: meaningless once summed
            ProcessCollector(registry=own)
            PlatformCollector(registry=own)
        self.state = HelpdeskCollector(rt)
        self._series: dict[tuple, tuple] = {}  # (method, route, status) -> (counter, histogram) children
        self.registry.register(self.state)

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:  # labels() takes a lock and builds its key on every call: looked up once per series
            method = method if method in METHODS else "OTHER"
            route = route or UNMATCHED
            series = self._series[key] = (self.requests.labels(method, route, str(status)),
                                          self.latency.labels(method, route))
        series[0].inc()
        series[1].observe(seconds)

    def exposition(self) -> bytes:
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
        registry.register(self.state)
        return generate_latest(registry)


def is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address((address or "").split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def allowed(token: str | None) -> bool:
    """A direct loopback connection, or the right bearer token (compared in constant time)."""
    if token:
        sent = request.headers.get("Authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return True
    return is_loopback(request.remote_addr) and not any(h in request.headers for h in PROXY_HEADERS)


@bp.get("/metrics")
def metrics():
    if not allowed(runtime().settings.env.get(TOKEN_ENV)):
        return Response("metrics are served to loopback, or with Authorization: Bearer $METRICS_TOKEN\n",
                        403, mimetype="text/plain")
    return Response(current_app.extensions["helpdesk_metrics"].exposition(), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Create the app's metrics and serve them at /metrics (no session, no CSRF, no database opened per request)."""
    app.extensions["helpdesk_metrics"] = WebMetrics(app.extensions["helpdesk_runtime"])
    app.register_blueprint(bp)

"""The app class: Flask whose request contexts remember which rule a URL matched, and which hands plain functions
to each request without inspecting them again.

Werkzeug's router walks its state machine and runs the converters for every request (6% of an htmx fragment's
time); browsers ask for the same few URLs over and over. A successful match is remembered by everything it depends
on (host or subdomain, path, method, websocket), and the request gets its own copy of the arguments. Matches that
fail or redirect are not remembered: werkzeug raises them afresh. Rules added after a match (werkzeug then re-sorts
the map) start the memory over.
"""
from __future__ import annotations

import threading
from inspect import CO_COROUTINE
from types import FunctionType

from flask import Flask
from flask.ctx import RequestContext
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter, Rule

MAX_MATCHES = 10_000  # URLs remembered; start over when this many


class RouteMatches:
    """One app's remembered matches: (server, subdomain, path, method, websocket) -> (rule, arguments)."""

    def __init__(self):
        self._matches: dict[tuple, tuple[Rule, dict]] = {}
        self._lock = threading.Lock()

    def match(self, adapter: MapAdapter) -> tuple[Rule, dict]:
        """`adapter.match(return_rule=True)`, remembered when it succeeds (raises as werkzeug does otherwise)."""
        if getattr(adapter.map, "_remap", True):  # rules added since the map was last sorted (or unknown werkzeug)
            self._matches.clear()
            return adapter.match(return_rule=True)
        key = (adapter.server_name, adapter.subdomain, adapter.path_info, adapter.default_method, adapter.websocket)
        known = self._matches.get(key)
        if known is None:
            known = adapter.match(return_rule=True)
            with self._lock:
                if len(self._matches) >= MAX_MATCHES:
                    self._matches.clear()
                self._matches[key] = (known[0], dict(known[1]))
        return known[0], dict(known[1])  # a view or url_value_preprocessor may change its own


class _MatchingRequestContext(RequestContext):
    def match_request(self) -> None:
        # As RequestContext.match_request, through the app's remembered matches.
        try:
            self.request.url_rule, self.request.view_args = self.app.route_matches.match(self.url_adapter)
        except HTTPException as exc:
            self.request.routing_exception = exc


class PortalFlask(Flask):
    """Flask with remembered route matches and a shortcut for plain views and hooks (everything else as Flask does
    it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.route_matches = RouteMatches()

    def request_context(self, environ: dict) -> RequestContext:
        return _MatchingRequestContext(self, environ)

    def ensure_sync(self, func):
        # Flask asks `inspect.iscoroutinefunction` for every view, hook and context processor of every request: a
        # plain function (not a coroutine's code, not marked as one) is returned as it would be, without the walk.
        if (type(func) is FunctionType and not func.__code__.co_flags & CO_COROUTINE
                and "_is_coroutine_marker" not in func.__dict__):
            return func
        return super().ensure_sync(func)

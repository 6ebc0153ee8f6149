"""Flask's signed-cookie session with a verified cookie's contents remembered: a browser sends the same cookie with
every request, and checking its signature (an HMAC, base64, a key derivation) cost more than the page's session
lookup. The contents are looked up by the exact cookie string, so only a cookie that was verified once is trusted,
and its age is still checked against the session lifetime on every request.
"""
from __future__ import annotations

import threading
import time

from flask import Flask, Request, Response, json
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer

MAX_COOKIES = 10_000  # cookies remembered; start over when this many
_PLAIN = (str, int, float, bool, type(None))  # values shared safely between requests' copies


class PlainFirstSerializer(TaggedJSONSerializer):
    """Flask's session serializer, writing a session the tags would leave as it is (plain JSON values, no one-key
    dict whose key is a tag's) with JSON alone: the same text without the tag walk (half of signing a cookie)."""

    def dumps(self, value) -> str:
        if _untagged(value, self.tags):
            return json.dumps(value, separators=(",", ":"))
        return super().dumps(value)


class RememberingCookieSessions(SecureCookieSessionInterface):
    """`SecureCookieSessionInterface` that verifies each distinct cookie once, reuses one signing serializer,
    decides first whether a response sets the cookie at all and writes plain sessions without Flask's tag walk."""

    serializer = PlainFirstSerializer()

    def __init__(self):
        self._opened: dict[tuple, tuple[object, float]] = {}  # (keys, cookie) -> (contents, signed at)
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}
        self._lock = threading.Lock()

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key) if app.secret_key else None
        serializer = self._serializers.get(keys)
        if serializer is None and keys is not None:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie or not app.secret_key:
            return super().open_session(app, request)
        max_age = app.permanent_session_lifetime.total_seconds()
        key = (app.secret_key, cookie)
        remembered = self._opened.get(key)
        if remembered is None:
            try:
                data, signed_at = self.get_signing_serializer(app).loads(cookie, max_age=int(max_age), return_timestamp=True)
            except BadSignature:
                return self.session_class()
            remembered = (data if _json_tree(data) else self.serializer.dumps(data), signed_at.timestamp())
            with self._lock:
                if len(self._opened) >= MAX_COOKIES:
                    self._opened.clear()
                self._opened[key] = remembered
        contents, signed_at = remembered
        if time.time() - signed_at > max_age:
            return self.session_class()
        # Each request gets its own copy: a view changing the session never changes what the next one opens.
        return self.session_class(_copy(contents) if isinstance(contents, dict) else self.serializer.loads(contents))

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        # Most requests leave the session as it was: Flask would read seven cookie settings before deciding so.
        accessed = session.accessed  # first: reading `permanent` marks the session accessed
        if not session.modified and not (app.config["SESSION_REFRESH_EACH_REQUEST"] and session.permanent):
            if accessed:
                _vary_on_cookie(response)
            return
        super().save_session(app, session, response)


def _vary_on_cookie(response: Response) -> None:
    """`response.vary.add("Cookie")`, without parsing and rewriting a header the response does not have yet."""
    if response.headers.getlist("Vary"):
        response.vary.add("Cookie")
    else:
        response.headers["Vary"] = "Cookie"


def _json_tree(value) -> bool:
    """Only dicts with string keys, lists and plain values: `_copy` copies it exactly (a tuple, a datetime, bytes or
    Markup go through the tagged serializer, which brings back their types)."""
    if isinstance(value, dict):
        return all(isinstance(key, str) and _json_tree(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_json_tree(item) for item in value)
    return type(value) in _PLAIN


def _untagged(value, tags) -> bool:
    """A `_json_tree` the tagged serializer writes unchanged: no dict of one key that names a tag."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in tags:
            return False
        return all(isinstance(key, str) and _untagged(item, tags) for key, item in value.items())
    if isinstance(value, list):
        return all(_untagged(item, tags) for item in value)
    return type(value) in _PLAIN


def _copy(value):
    """A deep copy of a `_json_tree` (nested session values: cheaper than the tagged serializer's loads)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value

"""The CSRF token a page embeds, signed once a minute per session instead of on every page; a sent token's
signature checked once instead of on every request.

Flask-WTF signs the session's raw token with a timestamp on every request (an HMAC and a serialization). A signed
token stays valid for WTF_CSRF_TIME_LIMIT (12 hours), so reusing one for up to REUSE_FOR seconds changes nothing a
browser can notice. Checking a sent token costs as much (a key derivation and an HMAC): `RememberingCSRFProtect`
keeps what a token's verified signature said (the raw token, when it was signed), so a token sent again is checked
against the session and the time limit only, exactly as Flask-WTF would decide.
"""
from __future__ import annotations

import hmac
import threading
import time
from typing import Callable

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import CSRFProtect, generate_csrf, same_origin
from itsdangerous import BadData, URLSafeTimedSerializer

REUSE_FOR = 60.0  # seconds a signed token is handed out again
MAX_SESSIONS = 10_000  # raw tokens remembered; start over when this many

_signed: dict[tuple[str, str], tuple[str, float]] = {}  # (secret key, raw token) -> (signed token, when signed)
_lock = threading.Lock()


def csrf_token() -> str:
    """This session's signed CSRF token (Flask-WTF's `generate_csrf`, reused while fresh)."""
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    if field in g:
        return g.get(field)
    raw, now = session.get(field), time.monotonic()
    remembered = _signed.get((current_app.secret_key, raw)) if isinstance(raw, str) else None
    if remembered is not None and now - remembered[1] < REUSE_FOR:
        setattr(g, field, remembered[0])
        return remembered[0]
    token = generate_csrf()
    with _lock:
        if len(_signed) >= MAX_SESSIONS:
            _signed.clear()
        _signed[(current_app.secret_key, session[field])] = (token, now)
    return token


class RememberingCSRFProtect(CSRFProtect):
    """Flask-WTF's CSRFProtect whose check of a token it verified before skips the signature."""

    def __init__(self, app: Flask | None = None):
        self._verified: dict[tuple[str, str], tuple[str, float]] = {}  # (secret, signed) -> (raw token, signed at)
        self._exempt_endpoints: dict[str, bool] = {}  # endpoint -> exempt (views and blueprints exempted once, at start)
        super().__init__(app)

    def init_app(self, app: Flask) -> None:
        """Flask-WTF's setup without its before-request hook (web.request_hooks calls `check` in its place) and
        without its context processor (ours, `init_app` below, outvotes it)."""
        hooks, processors = app.before_request_funcs[None], app.template_context_processors[None]
        registered = len(hooks), len(processors)
        super().init_app(app)
        del hooks[registered[0]:], processors[registered[1]:]

    def check(self, app: Flask) -> None:
        """What Flask-WTF's before-request hook does: the request's token checked unless disabled or exempt."""
        if app.config["WTF_CSRF_ENABLED"] and app.config["WTF_CSRF_CHECK_DEFAULT"]:
            self.protect(apply_exemptions=True)

    def exempt(self, view):
        self._exempt_endpoints.clear()
        return super().exempt(view)

    def protect(self, apply_exemptions: bool = False) -> None:
        req, app = request._get_current_object(), current_app._get_current_object()
        config = app.config
        # The method first: a GET needs no exemption lookup (Flask-WTF returns for either, in the other order).
        if req.method not in config["WTF_CSRF_METHODS"]:
            return
        if apply_exemptions and (not req.endpoint or self._endpoint_exempt(req.endpoint)):
            return
        signed = self._get_csrf_token()
        if not signed or not self._verified_before(config, signed):
            super().protect()  # answers 400 unless valid
            self._remember(signed)
            return
        if req.is_secure and config["WTF_CSRF_SSL_STRICT"]:  # as Flask-WTF checks it
            if not req.referrer:
                self._error_response("The referrer header is missing.")
            if not same_origin(req.referrer, f"https://{req.host}/"):
                self._error_response("The referrer does not match the host.")
        g.csrf_valid = True

    def _endpoint_exempt(self, endpoint: str) -> bool:
        exempt = self._exempt_endpoints.get(endpoint)
        if exempt is None:
            exempt = self._exempt_endpoints[endpoint] = self._is_exempt()
        return exempt

    def _verified_before(self, config, signed: str) -> bool:
        known = self._verified.get((_secret(config), signed))
        if known is None:
            return False
        raw, signed_at = known
        limit = config["WTF_CSRF_TIME_LIMIT"]
        current = session.get(config["WTF_CSRF_FIELD_NAME"])
        return (isinstance(current, str) and hmac.compare_digest(current, raw)
                and (limit is None or 0 <= time.time() - signed_at <= limit))

    def _remember(self, signed: str) -> None:
        secret = _secret(current_app.config)
        try:
            raw, signed_at = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").loads(signed, return_timestamp=True)
        except BadData:
            return
        with _lock:
            if len(self._verified) >= MAX_SESSIONS:
                self._verified.clear()
            self._verified[(secret, signed)] = (raw, signed_at.timestamp())


def _secret(config) -> str:
    return config.get("WTF_CSRF_SECRET_KEY") or config["SECRET_KEY"]


def init_app(app: Flask) -> None:
    """After CSRFProtect: templates call this `csrf_token` (Flask-WTF's context processor is outvoted by ours)."""
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": _once(csrf_token)})


def _once(make: Callable[[], str]) -> Callable[[], str]:
    """`make()` called at the first use only (a page embeds its token four times)."""
    made: list[str] = []

    def value() -> str:
        if not made:
            made.append(make())
        return made[0]
    return value

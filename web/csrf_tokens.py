"""The CSRF token a page embeds, signed once a minute per session instead of on every page.

Flask-WTF signs the session's raw token with a timestamp on every request (an HMAC and a serialization). A signed
token stays valid for WTF_CSRF_TIME_LIMIT (12 hours), so reusing one for up to REUSE_FOR seconds changes nothing a
browser can notice; validation is untouched.
"""
from __future__ import annotations

import threading
import time

from flask import Flask, current_app, g, session
from flask_wtf.csrf import generate_csrf

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


def init_app(app: Flask) -> None:
    """After CSRFProtect: templates call this `csrf_token`."""
    app.jinja_env.globals["csrf_token"] = csrf_token

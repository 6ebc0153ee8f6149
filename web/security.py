"""Security settings of the web app: secret key, cookies, body limits, response headers."""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Callable

from flask import Flask, Request, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.catalog import Catalog
from engine.catalog.durations import parse_duration
from engine.settings import Settings
from web import context

UPLOAD_MARGIN_BYTES = 1024 * 1024  # room for the text fields and multipart framing next to the files
MAX_FORM_PARTS = 100  # a form has tens of fields and at most 20 files; 10,000 parts is an attack
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)
SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                    ("Referrer-Policy", "same-origin"), ("Content-Security-Policy", CSP))


def defaults(settings: Settings, catalog: Catalog) -> dict:
    """Flask config for this deployment; `create_app(overrides=...)` may replace any key."""
    return {
        "SECRET_KEY": settings.secret_key or persisted_secret_key(settings.data_dir),
        "SESSION_COOKIE_NAME": "helpdesk_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.public_url.startswith("https://"),
        # The cookie's own expiry; the server-side session (engine.sessions) enforces the policy on every request.
        "PERMANENT_SESSION_LIFETIME": parse_duration(catalog.policies.sessions.lifetime),
        # Re-signing the cookie on every response would only move its expiry past the server-side lifetime.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "MAX_CONTENT_LENGTH": max_body_size(catalog),
        "MAX_FORM_PARTS": MAX_FORM_PARTS,
        "WTF_CSRF_FIELD_NAME": "_csrf",  # leading underscore: cannot clash with a config field id
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
        "TEMPLATES_AUTO_RELOAD": False,
        "LOGIN_ATTEMPTS": 10,  # per IP and email in LOGIN_WINDOW seconds
        "LOGIN_ATTEMPTS_PER_ADDRESS": 50,  # per IP, whatever the email: slows credential stuffing
        "LOGIN_WINDOW": 15 * 60,
        "ACCOUNT_EMAILS_PER_ADDRESS": 3,  # sign-up, reset and resend emails per email address in ACCOUNT_WINDOW
        "ACCOUNT_EMAILS_PER_IP": 20,  # the same per client IP, whatever the address
        "ACCOUNT_WINDOW": 60 * 60,
        "CLAIM_ATTEMPTS_PER_USER": 5,  # Telegram claim codes tried per account in CLAIM_WINDOW seconds
        "CLAIM_ATTEMPTS_PER_IP": 20,  # the same per client IP
        "CLAIM_WINDOW": 15 * 60,
        "SIGN_IN_LINK_FLOOR": 0.3,  # seconds every sign-in link request takes, so its time tells nothing
        # Behind N reverse proxies the client address comes from X-Forwarded-For (sign-in limits need it).
        "TRUSTED_PROXIES": int(settings.env.get("TRUSTED_PROXIES", "0") or 0),
    }


def persisted_secret_key(data_dir: Path) -> str:
    """A random key created once under data_dir, so sessions survive restarts and all local processes agree."""
    path = Path(data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then hard-linked into place: the file appears complete, and if two processes start
        # together the link fails for the second, which then reads the first one's key.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
    return path.read_text().strip()


_limits_by_version: dict[str, int] = {}  # computed once per catalog version, checked on every request


def max_body_size(catalog: Catalog) -> int:
    """The largest legitimate request: the biggest attachment field's files at their size limit, plus a margin."""
    if catalog.version not in _limits_by_version:
        if len(_limits_by_version) > 16:
            _limits_by_version.clear()
        _limits_by_version[catalog.version] = _largest_upload(catalog) + UPLOAD_MARGIN_BYTES
    return _limits_by_version[catalog.version]


def server_body_limit(app: Flask, margin: int) -> Callable[[], int]:
    """A server's cutoff that follows reloads: the app's limit for the catalog running now, plus `margin`."""
    holder = app.extensions["helpdesk_runtime"].catalogs
    return lambda: max_body_size(holder.current) + margin


def _largest_upload(catalog: Catalog) -> int:
    policy = catalog.policies.attachments
    largest = policy.max_files * policy.max_file_size_mb
    for form in catalog.forms.values():
        for field in form.fields:
            if field.type == "attachments":
                largest = max(largest, field.max_files * field.max_file_size_mb)
    return int(largest * 1024 * 1024)


def limit_body(request: Request, catalog: Catalog) -> None:
    """Per request, before the form is parsed: the catalog may have been reloaded since the app started."""
    request.max_content_length = max_body_size(catalog)


def add_headers(request: Request, response: Response) -> None:
    """The security headers a response does not set itself, and `no-store` on everything but static assets."""
    headers = response.headers
    # Headers.setdefault finds a missing name by raising (and building) an HTTP error: a set is cheaper.
    present = {name.lower() for name in headers.keys()}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if "cache-control" not in present and request.endpoint and not request.endpoint.startswith("assets."):
        headers.add("Cache-Control", "no-store")


def init_app(app: Flask) -> None:
    """Trust configured proxies; the body limit for the browser's own pre-check (the requests' limit and headers are
    set by web.request_hooks)."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.jinja_env.globals["max_body"] = lambda: max_body_size(context.catalog())

"""Translate HTTP errors and the engine's named exceptions into pages (or htmx fragments) with catalog texts."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import NotFound, PermissionDenied, StorageUnavailable
from web.redirects import safe_next

# status -> UI text key; anything else falls back to the generic message.
MESSAGES = {400: "error_400", 403: "error_403", 404: "error_404", 405: "error_400", 408: "error_408",
            413: "error_413", 429: "error_429", 503: "error_503"}
# Other areas' blueprints (events API, Telegram webhook) answer machines: they keep werkzeug's own errors.
HTML_BLUEPRINTS = {None, "auth", "portal", "agent", "admin", "assets"}


def render_error(status: int, key: str | None = None):
    """An error page, or just its message when htmx asked for a fragment."""
    key = key or MESSAGES.get(status, "error_500")
    htmx = getattr(request, "htmx", None)
    # A boosted form or link swaps the whole body: it needs the full page, not the fragment.
    template = "errors/_error.html" if htmx and not htmx.boosted else "errors/error.html"
    return render_template(template, status=status, message_key=key, back_url=_form_page() if status == 413 else None), status


def _form_page() -> str | None:
    """The page whose form was refused as too large (from Referer, this site only), to go back to it."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return render_error(400, "error_csrf")

    @app.errorhandler(NotFound)
    def _engine_not_found(_exc):
        return render_error(404)

    @app.errorhandler(PermissionDenied)
    def _engine_denied(_exc):
        return render_error(403)

    @app.errorhandler(StorageUnavailable)
    def _storage_unavailable(exc):
        app.logger.warning("attachment storage unavailable: %s", exc)
        return render_error(503)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code is None or exc.code < 400 or request.blueprint not in HTML_BLUEPRINTS:
            return exc
        return render_error(exc.code)

    @app.errorhandler(500)
    def _internal(_exc):
        return render_error(500)

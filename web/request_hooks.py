"""The app's per-request steps in one before-request, one after-request and one teardown hook.

Flask calls each registered hook through its own lookup (blueprint names, `ensure_sync`'s coroutine check) and each
step read `request`, `g` and `current_app` through context proxies: one hook per phase that binds them once keeps
the steps and their order and drops that per-step cost from every request.

Before: the request id (every later step logs with it), the database, the body limit (before anything parses the
form), CSRF. After: the security headers, then the request id header, metrics and access log (they see the final
status). Teardown: the database, then the request id.
"""
from __future__ import annotations

from flask import Flask, Response, g, request

from web import context, requestlog, security
from web.csrf_tokens import RememberingCSRFProtect


def init_app(app: Flask, csrf: RememberingCSRFProtect) -> None:
    """Register the three hooks: before any other module's (a later `before_request` sees the request id)."""

    @app.before_request
    def _before() -> None:
        req, ctx_g = request._get_current_object(), g._get_current_object()
        requestlog.begin(req, ctx_g)
        security.limit_body(req, context.begin(app.extensions["helpdesk_runtime"], req, ctx_g))
        csrf.check(app)

    @app.after_request
    def _after(response: Response) -> Response:
        req = request._get_current_object()
        security.add_headers(req, response)
        requestlog.finish(app, req, g._get_current_object(), response)
        return response

    @app.teardown_request
    def _teardown(_exc) -> None:
        context.close_db(app.extensions["helpdesk_runtime"])
        requestlog.end(g._get_current_object())

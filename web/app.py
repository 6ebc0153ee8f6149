"""One place wires the web app: defaults, Runtime, security, extensions, blueprints."""
from __future__ import annotations

from flask import Flask
from htmx_flask import Htmx

from engine.channel_setup import report_unconfigured
from engine.logsafe import add_secret
from engine.runtime import Runtime, start_runtime
from engine.settings import Settings, from_env
from web import (assets, context, converters, csrf_tokens, display, errors, health, list_rows, metrics, nav, page_shell,
                 paging, request_hooks, security, ticket_parts, urls)
from web.account import bp as account_bp
from web.admin import bp as admin_bp
from web.admin.user_data import bp as admin_user_data_bp
from web.agent import bp as agent_bp
from web.api import api as api_bp
from web.auth import bp as auth_bp
from web.cookie_sessions import RememberingCookieSessions
from web.portal import bp as portal_bp
from web.request_class import PortalRequest
from web.portal_flask import PortalFlask
from web.sign_in_link import bp as sign_in_link_bp
from web.telegram_webhook import bp as telegram_bp
from web.templating import SharedGlobalsEnvironment


def create_app(settings: Settings | None = None, runtime: Runtime | None = None, overrides: dict | None = None) -> Flask:
    """Build the Flask app around a Runtime (started here unless one is given); warns of unconfigured channels."""
    if runtime is None:
        runtime = start_runtime(settings or from_env())
    report_unconfigured(runtime.catalog, runtime.settings.env)
    app = PortalFlask(__name__, static_folder=None)  # our assets blueprint serves /static
    app.session_interface = RememberingCookieSessions()
    app.jinja_environment = SharedGlobalsEnvironment  # before app.jinja_env is first built
    app.config.update(security.defaults(runtime.settings, runtime.catalog))
    app.config.update(overrides or {})
    add_secret(app.config["SECRET_KEY"])  # also a key generated and persisted in the data folder
    app.extensions["helpdesk_runtime"] = runtime
    runtime.cache.follow(runtime.redis)  # every page's session and unread count, evicted over Redis pub/sub

    csrf = csrf_tokens.RememberingCSRFProtect(app)
    # One hook per phase, first: request id, database, body limit, CSRF; headers, access log and HTTP metrics.
    request_hooks.init_app(app, csrf)
    context.init_app(app)
    display.init_app(app)  # badges and times: template globals
    list_rows.init_app(app)  # the ticket lists' rows
    paging.init_app(app)  # the lists' pager bar
    ticket_parts.init_app(app)  # the ticket page's parts
    converters.init_app(app)  # before any blueprint: their routes use `<id:...>`
    urls.init_app(app)
    nav.init_app(app)
    page_shell.init_app(app)  # base.html around every page
    security.init_app(app)
    csrf_tokens.init_app(app)
    Htmx(app)
    app.request_class = PortalRequest  # after Htmx, which sets its own
    errors.init_app(app)
    assets.init_app(app)  # registers the `assets` blueprint (our CSS, htmx)
    health.init_app(app)  # /healthz, /readyz
    metrics.init_app(app)  # /metrics (loopback or METRICS_TOKEN)

    for blueprint in (auth_bp, account_bp, sign_in_link_bp, portal_bp, agent_bp, admin_bp, admin_user_data_bp):
        app.register_blueprint(blueprint)
    # Machine clients authenticate otherwise (Bearer token, Telegram's secret header), not with a session cookie.
    for blueprint in (api_bp, telegram_bp):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    return app


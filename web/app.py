"""One place wires the web app: defaults, Runtime, security, extensions, blueprints."""
from __future__ import annotations

import importlib

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from engine.runtime import Runtime, start_runtime
from engine.settings import Settings, from_env
from web import assets, context, errors, security

# Blueprints other areas own; registered when their module exists, CSRF-exempt (they authenticate otherwise).
EXTERNAL_BLUEPRINTS = (("web.telegram_webhook", "bp"),)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None, overrides: dict | None = None) -> Flask:
    """Build the Flask app around a Runtime (started here unless one is given)."""
    if runtime is None:
        runtime = start_runtime(settings or from_env())
    app = Flask(__name__, static_folder=None)  # our assets blueprint serves /static
    app.config.update(security.defaults(runtime.settings, runtime.catalog))
    app.config.update(overrides or {})
    app.extensions["helpdesk_runtime"] = runtime

    # Order matters: the body limit (security) must be set before CSRFProtect parses the form.
    context.init_app(app)
    security.init_app(app)
    csrf = CSRFProtect(app)
    Htmx(app)
    errors.init_app(app)
    assets.init_app(app)  # registers the `assets` blueprint (our CSS, htmx)

    from web.admin import bp as admin_bp
    from web.agent import bp as agent_bp
    from web.api import api as api_bp
    from web.auth import bp as auth_bp
    from web.portal import bp as portal_bp

    for blueprint in (auth_bp, portal_bp, agent_bp, admin_bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)  # machine clients authenticate with a Bearer token, not a session cookie
    app.register_blueprint(api_bp)
    for module_name, attr in EXTERNAL_BLUEPRINTS:
        blueprint = _optional_blueprint(module_name, attr)
        if blueprint is not None:
            csrf.exempt(blueprint)
            app.register_blueprint(blueprint)
    return app


def _optional_blueprint(module_name: str, attr: str):
    """Import another area's blueprint if that area has shipped it (the app runs without it)."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None
    return getattr(module, attr)

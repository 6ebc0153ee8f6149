"""Probes for load balancers and supervisors: /healthz (the process answers), /readyz (it can serve)."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify

from engine.health import HealthProbe
from web.context import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = current_app.extensions["helpdesk_health"].readiness()
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503


def init_app(app: Flask) -> None:
    """Register the probes (GET only, no session or CSRF involved)."""
    with app.app_context():
        app.extensions["helpdesk_health"] = HealthProbe(runtime())
    app.register_blueprint(bp)

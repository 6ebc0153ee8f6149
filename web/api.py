"""The events API (/api/v1): other systems post notifications with a Bearer token; JSON in, JSON out."""
from __future__ import annotations

import math

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from engine.api_tokens import verify_token
from engine.errors import CredentialRevoked, RateLimited, Unauthenticated, ValidationFailed
from engine.events import check_rate, post_event

MAX_BODY = 64 * 1024  # an event is a few hundred bytes; refuse big bodies before reading them

api = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, error: str, **extra):
    return jsonify({"error": error, **extra}), status


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _error(exc.code or 500, exc.name.lower().replace(" ", "_"))


@api.errorhandler(Unauthenticated)
def _unauthenticated(exc):
    response = jsonify({"error": "unauthorized", "reason": str(exc)})
    response.headers["WWW-Authenticate"] = 'Bearer realm="helpdesk"'
    return response, 401


@api.errorhandler(CredentialRevoked)
def _revoked(exc):
    return _error(403, "forbidden", reason=str(exc))


@api.errorhandler(RateLimited)
def _limited(exc: RateLimited):
    response = jsonify({"error": "too_many_requests", "retry_after": exc.retry_after})
    response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return response, 429


@api.errorhandler(ValidationFailed)
def _invalid(exc: ValidationFailed):
    return _error(422, "invalid_event", reason=str(exc), errors=exc.errors)


def _bearer() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


@api.post("/events")
def post_events():
    """Accept one event: {"type", "customer", "params", "idempotency_key"} -> 202 {"notification_id"}."""
    rt = current_app.extensions["helpdesk_runtime"]
    check_rate(rt, verify_token(_bearer()).id)
    if request.content_length is None or request.content_length > MAX_BODY:
        status = 411 if request.content_length is None else 413
        return _error(status, "length_required" if status == 411 else "payload_too_large", limit=MAX_BODY)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "invalid_json", reason="the body must be a JSON object")
    response, _created = post_event(rt, body.get("type"), body.get("customer"), body.get("params", {}), body.get("idempotency_key"))
    return jsonify(response), 202

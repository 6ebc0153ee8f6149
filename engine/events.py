"""Events from other systems (billing): validated against the type's declared params, fanned out, idempotent."""
from __future__ import annotations

import math
from datetime import date

from peewee import IntegrityError, fn
from redis.exceptions import RedisError

from engine.errors import RateLimited, ValidationFailed
from engine.notify import enqueue_deliveries, notify
from engine.ratelimit import Bucket, RateLimiter
from engine.store.models import EventReceipt, User

MAX_STRING = 4000
EVENTS_PER_SECOND = 50.0  # per API token, with a burst of one second's worth: a runaway client cannot flood customers


def _check(kind: str, value) -> str | None:
    """An error message if `value` is not of the declared param type."""
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "must be a number"
    if kind == "integer":
        return None if isinstance(value, int) and not isinstance(value, bool) else "must be an integer"
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "date":
        if isinstance(value, str) and len(value) == 10:
            try:
                date.fromisoformat(value)
                return None
            except ValueError:
                pass
        return "must be a date YYYY-MM-DD"
    if not isinstance(value, str):
        return "must be a string"
    return None if len(value) <= MAX_STRING else f"must be at most {MAX_STRING} characters"


def validate_params(spec, params) -> dict[str, str]:
    """Errors by 'params.<name>': every declared param present and typed, nothing undeclared."""
    if not isinstance(params, dict):
        return {"params": "must be an object"}
    errors = {f"params.{name}": "is required" for name in spec.params if name not in params}
    errors |= {f"params.{name}": "is not declared by this type" for name in params if name not in spec.params}
    for name, kind in spec.params.items():
        if name in params and (message := _check(kind, params[name])):
            errors[f"params.{name}"] = message
    return errors


def find_customer(reference) -> User | None:
    """An active account by billing external id, or by email (case-insensitive)."""
    if not isinstance(reference, str) or not reference.strip():
        return None
    reference = reference.strip()
    return User.get_or_none(User.is_active & ((User.external_id == reference) | (fn.LOWER(User.email) == reference.lower())))


def check_rate(rt, token_id: int) -> None:
    """RateLimited when this API token exceeds EVENTS_PER_SECOND; with Redis down events are let through."""
    try:
        wait = RateLimiter(rt.redis).take([Bucket(f"ratelimit:events:{token_id}", EVENTS_PER_SECOND, EVENTS_PER_SECOND)])
    except RedisError:
        return
    if wait > 0:
        raise RateLimited(wait)


def post_event(rt, type_id, customer, params, idempotency_key=None) -> tuple[dict, bool]:
    """Record an event notification; returns (response, created). A repeated key returns the first response."""
    if idempotency_key is not None and (not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= 200):
        raise ValidationFailed({"idempotency_key": "must be a string of 1 to 200 characters"})
    if idempotency_key and (receipt := EventReceipt.get_or_none(EventReceipt.idempotency_key == idempotency_key)):
        return receipt.response, False
    catalog = rt.catalog
    spec = catalog.notification_types.get(type_id) if isinstance(type_id, str) else None
    if spec is None or spec.source != "event":
        raise ValidationFailed({"type": f"unknown event type {type_id!r}"})
    if errors := validate_params(spec, params):
        raise ValidationFailed(errors)
    user = find_customer(customer)
    if user is None:
        raise ValidationFailed({"customer": "no active customer with this external id or email"})
    try:
        with rt.db.atomic():
            key = f"event:{idempotency_key}" if idempotency_key else None
            notification = notify(catalog, user, type_id, params, idempotency_key=key)
            response = {"notification_id": notification.id}
            if idempotency_key:
                EventReceipt.create(idempotency_key=idempotency_key, response=response)
    except IntegrityError:
        # The same key raced in from another request: its transaction won, answer with its result.
        receipt = EventReceipt.get_or_none(EventReceipt.idempotency_key == idempotency_key)
        if receipt is None:
            raise
        return receipt.response, False
    enqueue_deliveries(rt, [notification.id])
    return response, True

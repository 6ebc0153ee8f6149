"""The events API: Bearer tokens, validation against declared params, idempotency, limits."""
from __future__ import annotations

import json
import threading

import pytest
from flask import Flask

from engine.api_tokens import create_token, revoke_token
from engine.store.models import Delivery, EventReceipt, Notification
from tests.notify.conftest import make_customer, work
from web.api import MAX_BODY, api

pytestmark = pytest.mark.postgres  # delivery state and idempotency rely on conditional UPDATEs: run on both databases

URL = "/api/v1/events"
EVENT = {"type": "low_balance", "customer": "ext-100", "params": {"balance": 12.5, "currency": "RUB"},
         "idempotency_key": "bill-1"}


@pytest.fixture
def client(bound):
    """The blueprint on a bare Flask app holding the test Runtime (the web factory registers the same blueprint)."""
    app = Flask(__name__)
    app.extensions["helpdesk_runtime"] = bound
    app.register_blueprint(api)
    return app.test_client()


@pytest.fixture
def token(bound):
    make_customer(external_id="ext-100")
    return create_token("billing")[1]


def post(client, token, body=EVENT, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(URL, data=data, headers=headers, content_type="application/json", **kw)


def test_event_is_accepted_and_delivered(client, token, bound, mailbox):
    """202 with the notification id; the email goes out through the worker."""
    response = post(client, token)
    assert response.status_code == 202
    notification = Notification.get_by_id(response.get_json()["notification_id"])
    assert notification.type_id == "low_balance" and notification.params == EVENT["params"]
    work(bound)
    [(_, message)] = mailbox.wait(1)
    assert message["Subject"] == "Низкий баланс: 12.5 RUB"


def test_repeated_idempotency_key_answers_the_first_result_and_sends_nothing_again(client, token, bound, mailbox):
    """Same key twice: same answer, one notification, one email."""
    first = post(client, token)
    work(bound)
    second = post(client, token, {**EVENT, "params": {"balance": 1, "currency": "USD"}})
    work(bound)
    assert second.status_code == 202 and second.get_json() == first.get_json()
    assert Notification.select().count() == 1 and EventReceipt.select().count() == 1
    assert len(mailbox.wait(1)) == 1 and Delivery.select().count() == 1


def test_customer_can_be_given_by_email(client, token):
    """The customer reference is the billing id or the account's email, case-insensitive."""
    response = post(client, token, {**EVENT, "customer": "ANNA@example.com", "idempotency_key": "by-mail"})
    assert response.status_code == 202


@pytest.mark.parametrize("header, status, error", [
    (None, 401, "unauthorized"),
    ("Bearer", 401, "unauthorized"),
    ("Bearer hd_not-a-token", 401, "unauthorized"),
    ("Basic dXNlcjpwYXNz", 401, "unauthorized"),
])
def test_missing_or_unknown_token_is_401(client, token, header, status, error):
    """No token, an empty one, an unknown one or another scheme: 401 with a Bearer challenge."""
    headers = {"Authorization": header} if header else {}
    response = client.post(URL, json=EVENT, headers=headers)
    assert response.status_code == status and response.get_json()["error"] == error
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert Notification.select().count() == 0


def test_revoked_token_is_403(client, token):
    """A revoked token is refused with 403 and nothing is recorded."""
    revoke_token("billing")
    response = post(client, token)
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert Notification.select().count() == 0


@pytest.mark.parametrize("change, errors", [
    ({"type": "no_such_type"}, {"type": "unknown event type 'no_such_type'"}),
    ({"type": "support_reply"}, {"type": "unknown event type 'support_reply'"}),
    ({"type": 5}, {"type": "unknown event type 5"}),
    ({"customer": "nobody"}, {"customer": "no active customer with this external id or email"}),
    ({"customer": None}, {"customer": "no active customer with this external id or email"}),
    ({"params": {"balance": "много", "currency": "RUB"}}, {"params.balance": "must be a number"}),
    ({"params": {"balance": True, "currency": "RUB"}}, {"params.balance": "must be a number"}),
    ({"params": {"balance": 1}}, {"params.currency": "is required"}),
    ({"params": {"balance": 1, "currency": "RUB", "x": 1}}, {"params.x": "is not declared by this type"}),
    ({"params": {"balance": 1, "currency": 7}}, {"params.currency": "must be a string"}),
    ({"params": [1, 2]}, {"params": "must be an object"}),
    ({"idempotency_key": ""}, {"idempotency_key": "must be a string of 1 to 200 characters"}),
    ({"idempotency_key": "k" * 201}, {"idempotency_key": "must be a string of 1 to 200 characters"}),
    ({"type": "service_deletion_soon", "params": {"service": "VPS", "delete_on": "31.12.2026"}},
     {"params.delete_on": "must be a date YYYY-MM-DD"}),
])
def test_invalid_events_are_422_with_the_reason(client, token, change, errors):
    """Each wrong part of an event is named in the 422 answer; nothing is recorded."""
    response = post(client, token, {**EVENT, **change})
    assert response.status_code == 422
    assert response.get_json()["errors"] == errors
    assert Notification.select().count() == 0


def test_a_valid_date_param_is_accepted(client, token):
    """A date param takes ISO dates."""
    body = {**EVENT, "type": "service_deletion_soon", "params": {"service": "VPS", "delete_on": "2026-12-31"}}
    assert post(client, token, body).status_code == 202


def test_integer_params_refuse_fractions(bound, client, token):
    """An integer param takes whole numbers only."""
    from engine.events import validate_params

    spec = bound.catalog.notification_types["support_reply"]
    assert validate_params(spec, {"ticket_number": 1.5, "subject": "s", "reply": "r"}) == {
        "params.ticket_number": "must be an integer"}


@pytest.mark.parametrize("body, status, error", [
    (b"{not json", 400, "invalid_json"),
    (b"[1, 2]", 400, "invalid_json"),
    (b'"text"', 400, "invalid_json"),
    (b"{" + b" " * MAX_BODY + b"}", 413, "payload_too_large"),
])
def test_malformed_or_oversized_bodies(client, token, body, status, error):
    """Broken JSON is 400, a body over the limit 413, before anything else happens."""
    response = post(client, token, body)
    assert response.status_code == status and response.get_json()["error"] == error


def test_xss_in_params_is_escaped_in_the_email(client, token, bound, mailbox):
    """Markup posted by another system is text in the HTML email."""
    post(client, token, {**EVENT, "params": {"balance": 1, "currency": "<script>alert(1)</script>"}})
    work(bound)
    [(_, message)] = mailbox.wait(1)
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_get_is_not_allowed(client, token):
    """Events are only ever posted."""
    response = client.get(URL, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405


def test_the_web_app_serves_the_api_without_csrf(bound, token):
    """The real app factory registers the blueprint and exempts it from CSRF (machines send no CSRF token)."""
    from web.app import create_app

    app = create_app(runtime=bound, overrides={"TESTING": True, "WTF_CSRF_ENABLED": True})
    response = post(app.test_client(), token)
    assert response.status_code == 202, response.data


def test_the_same_key_posted_concurrently_creates_one_notification(bound, token):
    """Four billing retries racing with one key: one notification, the same answer for all."""
    app = Flask(__name__)
    app.extensions["helpdesk_runtime"] = bound
    app.register_blueprint(api)
    answers = []
    barrier = threading.Barrier(4)

    def call():
        barrier.wait()
        response = post(app.test_client(), token, {**EVENT, "idempotency_key": "race"})
        answers.append((response.status_code, response.get_json()))
        bound.db.close()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(answers) == 4 and {status for status, _ in answers} == {202}
    assert len({body["notification_id"] for _, body in answers}) == 1
    assert Notification.select().count() == 1


def test_a_flooding_client_is_slowed_down_with_429(client, token, monkeypatch):
    """Beyond the per-token rate the API answers 429 with Retry-After and records nothing."""
    monkeypatch.setattr("engine.events.EVENTS_PER_SECOND", 2.0)
    answers = [post(client, token, {**EVENT, "idempotency_key": f"flood-{n}"}) for n in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].headers["Retry-After"] == "1" and answers[2].get_json()["error"] == "too_many_requests"
    assert Notification.select().count() == 2

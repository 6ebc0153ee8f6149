"""Case 1 across two edges: markup a billing system posts through the events API is shown escaped on the portal."""
from __future__ import annotations

import pytest
import requests

from engine.api_tokens import create_token
from engine.store.models import User
from tests.web.test_security import XSS


@pytest.mark.parametrize("payload", XSS)
def test_event_params_are_escaped_in_the_notification_list(server, customer, payload):
    User.update(external_id="acc-1").execute()
    _, token = create_token("billing")
    event = {"type": "service_stopped", "customer": "acc-1", "idempotency_key": "x1",
             "params": {"service": f"S{payload}", "reason": f"R{payload}"}}
    posted = requests.post(f"{server.url}/api/v1/events", json=event, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert posted.status_code == 202
    page = customer.session.get(f"{server.url}/notifications", timeout=30).text
    assert "остановлена" in page  # the notification is listed ...
    assert ("<" not in payload and '"' not in payload) or payload not in page  # ... with any markup escaped
    assert 'href="javascript' not in page and 'hx-get="/logout' not in page

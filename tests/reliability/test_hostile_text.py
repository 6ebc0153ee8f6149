"""Case 1 across edges: markup in a custom field value or posted through the events API is shown escaped on the portal."""
from __future__ import annotations

import pytest
import requests

from engine import accounts
from engine.api_tokens import create_token
from engine.store.models import User
from tests.reliability.conftest import PASSWORD
from tests.reliability.load import TICKET_VALUES, Customer, Tally
from tests.web.test_security import XSS


def assert_escaped(page: str, payload: str) -> None:
    assert ("<" not in payload and '"' not in payload) or payload not in page
    assert 'href="javascript' not in page and 'hx-get="/logout' not in page


@pytest.mark.parametrize("payload", XSS)
def test_a_custom_field_value_is_escaped_for_the_customer_and_the_agent(server, customer, payload):
    """«Другое» opens a free-text channel field: its value is shown on the customer's and the agent's ticket pages."""
    location = customer.create_ticket(Tally(), {**TICKET_VALUES, "channel": "Другое", "channel_other": f"C{payload}"[:100]})
    assert location
    accounts.create_user("agent@example.com", PASSWORD, role="agent")
    agent = Customer(server.url, "agent@example.com", PASSWORD)
    for page in (customer.session.get(server.url + location, timeout=30).text,
                 agent.session.get(server.url + "/agent" + location, timeout=30).text):
        assert "Какой канал связи?" in page
        assert_escaped(page, payload)


@pytest.mark.parametrize("payload", XSS)
def test_event_params_are_escaped_in_the_notification_list(server, customer, payload):
    User.update(external_id="acc-1").execute()
    _, token = create_token("billing")
    event = {"type": "service_stopped", "customer": "acc-1", "idempotency_key": "x1",
             "params": {"service": f"S{payload}", "reason": f"R{payload}"}}
    posted = requests.post(f"{server.url}/api/v1/events", json=event, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert posted.status_code == 202
    page = customer.session.get(f"{server.url}/notifications", timeout=30).text
    assert "остановлена" in page
    assert_escaped(page, payload)

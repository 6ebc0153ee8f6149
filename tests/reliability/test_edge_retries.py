"""Retries and outages seen from the real HTTP edge: double submits (case 9), repeated webhooks (case 12), Redis down
while a customer submits (case 14)."""
from __future__ import annotations

import threading

import pytest
import requests

from channels.telegram.webhook import webhook_secret
from engine import accounts, tickets
from engine.api_tokens import create_token
from engine.store.models import Delivery, Notification, ProcessedUpdate, Ticket
from tests.notify.conftest import SUPPORT_TOKEN, own_redis, write_policies  # noqa: F401  (own_redis: a Redis this module can crash)
from tests.reliability.conftest import PASSWORD
from tests.reliability.load import CSRF_RE, IDEM_RE, TICKET_VALUES, TOPIC_URL, Customer, Tally
from tests.waiting import wait_for

CHAT = 4242


def at_once(calls) -> list:
    """Run the calls in threads released together; their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.postgres
def test_double_click_and_htmx_retry_make_one_ticket(server, customer):
    """Two clicks and two retried htmx posts of one form, all at the same moment: one ticket, one notification."""
    page = customer.session.get(server.url + TOPIC_URL).text
    data = {**TICKET_VALUES, "_csrf": CSRF_RE.search(page).group(1), "_idem": IDEM_RE.search(page).group(1)}

    def submit(htmx: bool):
        session = requests.Session()
        session.cookies.update(customer.session.cookies)
        headers = {"HX-Request": "true"} if htmx else {}
        return lambda: session.post(server.url + TOPIC_URL, data=data, files={"attachments": ("", b"")},
                                    headers=headers, allow_redirects=False, timeout=30)

    responses = at_once([submit(False), submit(False), submit(True), submit(True)])
    assert [r.status_code for r in responses] == [303] * 4
    assert len({r.headers["Location"] for r in responses}) == 1
    assert Ticket.select().count() == 1
    assert Notification.select().where(Notification.type_id == "ticket_created").count() == 1


def update(update_id: int) -> dict:
    return {"update_id": update_id, "message": {"message_id": 1, "date": 0, "text": "/help",
                                                "from": {"id": CHAT, "is_bot": False, "first_name": "A"},
                                                "chat": {"id": CHAT, "type": "private"}}}


@pytest.mark.postgres
def test_a_webhook_update_delivered_twice_at_once_is_handled_once(app, server, fake_api):
    """Telegram retrying an update while the first delivery is still running: one reply, one claim."""
    url = f"{server.url}/telegram/support_bot/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(app.config["SECRET_KEY"], "support_bot")}
    requests.post(url, json=update(1), headers=headers, timeout=30)  # the first update creates the bot app
    post = lambda: requests.post(url, json=update(77), headers=headers, timeout=30)  # noqa: E731
    responses = at_once([post, post, post])
    assert [r.status_code for r in responses] == [200] * 3
    assert sorted(r.json()["handled"] for r in responses) == [False, False, True]
    assert len(fake_api.sent_to(CHAT, SUPPORT_TOKEN)) == 2  # /help for update 1 and for update 77, once each
    assert ProcessedUpdate.select().where(ProcessedUpdate.update_id == 77).count() == 1
    wrong = requests.post(url, json=update(78), headers={"X-Telegram-Bot-Api-Secret-Token": "x" * 64}, timeout=30)
    assert wrong.status_code == 401 and ProcessedUpdate.select().where(ProcessedUpdate.update_id == 78).count() == 0


class TestRedisDown:
    """The portal's Redis crashes after the customer signed in."""

    @pytest.fixture
    def redis(self, own_redis):  # noqa: F811
        return own_redis.client()

    @pytest.fixture
    def config_dir(self, config_dir):
        """Deadlines far away: the fast policies' reminder, due 2 s after a staff reply, was a fourth email
        whenever a loaded machine took longer than that to deliver the three the test counts."""
        write_policies(config_dir, auto_close={"after": "1h", "reminder_before": "30m"})
        return config_dir

    def test_the_customer_sees_success_and_the_email_follows_redis_back(self, bound, server, customer, own_redis,  # noqa: F811
                                                                          workers, mailbox):
        own_redis.crash()
        tally = Tally()
        location = customer.create_ticket(tally)
        assert tally.statuses[303] == 1 and location == f"/tickets/{Ticket.get().number}"
        assert customer.session.get(server.url + location, timeout=30).status_code == 200
        assert [d.status for d in Delivery.select()] == ["pending"]
        own_redis.start()
        workers.start("--sweep-every", "0.5")
        assert len(mailbox.wait(1)) == 1
        # The worker records "sent" right after the SMTP server accepted the message.
        wait_for(lambda: Delivery.get().status == "sent")
        assert len(mailbox.messages) == 1

    def test_agent_replies_and_billing_events_are_accepted_and_delivered_later(self, bound, server, own_redis,  # noqa: F811
                                                                              workers, mailbox):
        """The other writers keep working too: an agent's reply (with its auto-close timers) and an event."""
        ticket = tickets.create_ticket(bound, accounts.create_user("anna@example.com", PASSWORD), "chats/chat-problem",
                                       TICKET_VALUES, [], "web")
        accounts.create_user("agent@example.com", PASSWORD, role="agent")
        agent = Customer(server.url, "agent@example.com", PASSWORD)
        _, token = create_token("billing")
        own_redis.crash()
        page = agent.session.get(f"{server.url}/agent/tickets/{ticket.number}", timeout=30).text
        reply = agent.session.post(f"{server.url}/agent/tickets/{ticket.number}/reply", allow_redirects=False, timeout=30,
                                   data={"_csrf": CSRF_RE.search(page).group(1), "message": "Проверьте настройки."})
        event = requests.post(f"{server.url}/api/v1/events", headers={"Authorization": f"Bearer {token}"}, timeout=30,
                              json={"type": "low_balance", "customer": "anna@example.com", "params": {"balance": 1, "currency": "RUB"}})
        assert (reply.status_code, event.status_code) == (303, 202)
        assert Ticket.get_by_id(ticket.id).status == "waiting_customer"
        pending = Delivery.select().where(Delivery.status == "pending").count()
        assert pending == 3  # ticket created, support reply, low balance: one email each
        own_redis.start()
        workers.start("--sweep-every", "0.5")
        assert len(mailbox.wait(pending)) == pending

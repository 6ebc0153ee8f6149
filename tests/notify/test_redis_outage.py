"""Redis down while tickets change: nothing is lost; a real worker delivers once Redis is back."""
from __future__ import annotations

import time

import pytest

from engine.store.models import Delivery, Ticket, User
from engine.tickets import add_reply, create_ticket
from tests.notify.conftest import TICKET_VALUES, make_customer, write_policies

pytestmark = pytest.mark.postgres  # delivery state and idempotency rely on conditional UPDATEs: run on both databases

@pytest.fixture
def config_dir(config_dir):
    """Deadlines far away: only the ticket's own notifications are in play."""
    write_policies(config_dir, auto_close={"after": "1h", "reminder_before": "30m"})
    return config_dir


@pytest.fixture
def redis(own_redis):
    """This module's Runtime talks to a dedicated Redis the test can crash."""
    return own_redis.client()


def test_ticket_and_reply_while_redis_is_down_are_delivered_after_it_returns(bound, own_redis, mailbox, workers):
    """A ticket and a staff reply made with Redis crashed are saved; their emails arrive after Redis restarts."""
    customer = make_customer()
    agent = User.create(email="agent@example.com", role="agent", name="Агент")
    own_redis.crash()
    ticket = create_ticket(bound, customer, "chats/chat-problem", TICKET_VALUES, [], "web")
    add_reply(bound, ticket, agent, "Проверьте настройки бота.", [], "web")
    assert Ticket.get_by_id(ticket.id).status == "waiting_customer"
    pending = Delivery.select().where(Delivery.status == "pending").count()
    assert pending >= 1
    own_redis.start()
    workers.start("--sweep-every", "0.5")
    messages = mailbox.wait(pending, timeout=30)
    assert len(messages) == pending
    assert any(m["Subject"] == f"Ответ в запросе #{ticket.number}: Бот молчит" for _, m in messages)
    time.sleep(1)
    assert len(mailbox.messages) == pending
    assert {d.status for d in Delivery.select()} == {"sent"}

"""Internal notes never reach the customer: not by email (a real SMTP server), not through any bot (every call the
fake Bot API received, the bot's ticket view included), not as a notification."""
from __future__ import annotations

import pytest

from engine import accounts, delivery, notes, tickets
from engine.store.models import Delivery, Notification, Ticket
from tests.notify.conftest import mailbox  # noqa: F401 (the real SMTP server fixture)
from tests.telegram.chat import Chat
from tests.telegram.conftest import SUPPORT_TOKEN
from tests.waiting import wait_for

pytestmark = pytest.mark.postgres  # the internal flag filters on both databases

MARKER = "NOTE-7f3a-ЛИЧНО-only-staff"
CHAT = 515151
VALUES = {"account_id": "12345", "chat_id": "chat-1", "channel": "Telegram", "subject": "Бот молчит",
          "message": "После обновления бот не отвечает."}


@pytest.fixture
def settings(settings, mailbox):  # noqa: F811
    return settings.with_overrides(env={**settings.env, "SMTP_URL": mailbox.url})


def _deliver_all(rt) -> list[Delivery]:
    """Process every outbox row as the worker would, until each is final (waiting out the per-chat rate limit)."""
    def done() -> bool:
        for row in Delivery.select().where(Delivery.status == "pending"):
            delivery.process(rt, row.id)
        return not Delivery.select().where(Delivery.status.in_(("pending", "sending"))).exists()

    wait_for(done, interval=0.1, message="every delivery final")
    return list(Delivery.select())


def test_notes_reach_no_email_no_bot_message_and_no_notification(rt, fake_api, bots, mailbox):  # noqa: F811
    customer = accounts.create_user("anna@example.com", "secret-password-1", name="Анна")
    agent = accounts.create_user("agent@example.com", "secret-password-1", role="agent", name="Агент")
    chat = Chat(fake_api, SUPPORT_TOKEN, CHAT)
    chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    ticket = tickets.create_ticket(rt, customer, "chats/chat-problem", VALUES, [], "web")

    notes.add_note(rt, ticket, agent, f"Клиент проблемный, {MARKER} 1", "web")
    tickets.add_reply(rt, ticket, agent, "Перезапустили бота, проверьте.", [], "web")
    notes.add_note(rt, ticket, agent, f"{MARKER} 2 после ответа", "web")
    assert Ticket.get_by_id(ticket.id).status == "waiting_customer"  # the reply moved it, the notes did not

    rows = _deliver_all(rt)
    assert {r.status for r in rows} == {"sent"}
    assert {r.channel for r in rows} == {"email", "telegram"}  # both carried the reply (web is the in-app row)
    types = [n.type_id for n in Notification.select().where(Notification.type_id != "team_ticket_created").order_by(Notification.id)]
    assert types == ["ticket_created", "support_reply"]  # notes notify nobody (the team heard of the new ticket)
    assert all(MARKER not in str(n.params) for n in Notification.select())

    emails = mailbox.wait(2)
    assert any("Перезапустили бота" in m.as_string() + str(m.get_body(("plain",)).get_content()) for _, m in emails)
    for _, message in emails:
        for part in message.walk():
            if not part.is_multipart():
                assert MARKER not in part.get_content()
        assert MARKER not in str(message["Subject"])

    # The bot's own ticket view shows the conversation without the notes.
    chat.send("/tickets")
    chat.press(chat.buttons()[0])
    assert "Перезапустили бота" in chat.last
    assert MARKER not in chat.last
    calls = list(fake_api.calls)
    assert any("Перезапустили бота" in str(c.params) for c in calls if c.method == "sendMessage")
    assert [c.method for c in calls if MARKER in str(c.params)] == []

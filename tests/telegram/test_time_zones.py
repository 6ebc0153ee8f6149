"""Times in Telegram and in emails are in the recipient's time zone, labelled: the bot's ticket view, and the
auto-close reminder as the worker renders it for each channel."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine import accounts, tickets
from engine.delivery import build_outgoing
from engine.notify import notify
from engine.store.models import Delivery, Message, TelegramLink
from tests.telegram.chat import Chat
from tests.telegram.conftest import SUPPORT_TOKEN

VALUES = {"account_id": "12345", "chat_id": "chat-1", "channel": "Telegram", "subject": "Бот молчит",
          "message": "После обновления бот не отвечает."}
NOON_UTC = datetime(2027, 1, 15, 9, 5, tzinfo=timezone.utc)


@pytest.fixture
def settings(settings):
    return settings.with_overrides(env={**settings.env, "SMTP_URL": "smtp://127.0.0.1:9"})


def test_the_bot_shows_message_times_in_the_customers_zone(rt, fake_api, bots):
    customer = accounts.create_user("anna@example.com", "secret-password-1", name="Анна")
    chat = Chat(fake_api, SUPPORT_TOKEN, 525252)
    chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    ticket = tickets.create_ticket(rt, customer, "chats/chat-problem", VALUES, [], "web")
    Message.update(created_at=NOON_UTC).where(Message.ticket == ticket).execute()
    chat.send("/tickets")
    chat.press(chat.buttons()[0])
    assert "15.01.2027 12:05 МСК" in chat.last  # policies.time_zone: Europe/Moscow
    accounts.set_time_zone(rt, customer, "Asia/Novosibirsk")
    chat.send("/tickets")
    chat.press(chat.buttons()[0])
    assert "15.01.2027 16:05 (UTC+7)" in chat.last


def test_notifications_render_times_in_the_recipients_zone(rt):
    customer = accounts.create_user("anna@example.com", "secret-password-1", name="Анна", locale="en")
    TelegramLink.create(user=customer, binding="support_bot", chat_id=535353, tg_user_id=535353)
    ticket = tickets.create_ticket(rt, customer, "chats/chat-problem", VALUES, [], "web")
    with rt.db.atomic():
        notify(rt.catalog, customer, "auto_close_reminder",
               {"ticket_number": ticket.number, "subject": "Бот молчит", "auto_close_at": NOON_UTC.isoformat()},
               ticket=ticket)
    rows = {row.channel: row for row in Delivery.select() if row.notification.type_id == "auto_close_reminder"}
    assert "15.01.2027 12:05 MSK" in build_outgoing(rt.catalog, rows["email"], "https://help.example").text
    assert "15.01.2027 12:05 MSK" in build_outgoing(rt.catalog, rows["telegram"], "https://help.example").text
    accounts.set_time_zone(rt, customer, "America/New_York")
    email = build_outgoing(rt.catalog, rows["email"], "https://help.example")
    assert "15.01.2027 04:05 EST" in email.text and "15.01.2027 04:05 EST" in email.html
    assert "15.01.2027 04:05 EST" in build_outgoing(rt.catalog, rows["telegram"], "https://help.example").text

"""A customer whose account is in English gets the staff reply in English on Telegram and by email."""
from __future__ import annotations

from engine import tickets
from engine.notify import set_preferences
from engine.store.models import Delivery, User
from tests.notify.conftest import TICKET_VALUES, link, make_customer, work_until


def test_staff_reply_in_the_customers_locale(bound, fake_api, mailbox):
    customer = make_customer(locale="en")
    link(customer, 5401, binding="support_bot")
    set_preferences(customer, {"support_reply": {"email": True, "telegram": True}})
    ticket = tickets.create_ticket(bound, customer, "chats/chat-problem", TICKET_VALUES, [], "web")
    agent = User.create(email="agent@example.com", name="Агент", role="agent")
    tickets.add_reply(bound, ticket, agent, "Fixed.", [], "web")
    work_until(bound, lambda: fake_api.sent_to(5401) and any(
        m["Subject"].startswith("Reply to request") for _, m in mailbox.messages), pause=0.2)
    assert {d.status for d in Delivery.select()} == {"sent"}
    telegram = fake_api.sent_to(5401)[-1]["text"]
    assert telegram.startswith(f"Support replied to request #{ticket.number} “Бот молчит”:\n\nFixed.\n\nOpen the request: ")
    email = next(m for _, m in mailbox.messages if m["Subject"].startswith("Reply to request"))
    assert email.get_body(("plain",)).get_content().startswith(f"Support replied to request #{ticket.number}")

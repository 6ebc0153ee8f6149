"""A staff reply reaches Telegram and email rendered from the same template, identically, with a link to the ticket."""
from __future__ import annotations

from engine import tickets
from engine.notify import set_preferences
from engine.store.models import Delivery, User
from tests.notify.conftest import TICKET_VALUES, link, make_customer, work_until

STAFF_REPLY = "Проверили: <b>бот</b> & вебхук.\n\nШаги:\n1. Откройте настройки 🚀\n2. Нажмите «Сохранить»"


def test_staff_reply_is_the_same_in_telegram_and_email_with_a_link_back(bound, fake_api, mailbox):
    customer = make_customer()
    link(customer, 5301, binding="support_bot")
    set_preferences(customer, {"support_reply": {"email": True, "telegram": True}})
    ticket = tickets.create_ticket(bound, customer, "chats/chat-problem", TICKET_VALUES, [], "web")
    agent = User.create(email="agent@example.com", name="Агент", role="agent")
    tickets.add_reply(bound, ticket, agent, STAFF_REPLY, [], "web")
    work_until(bound, lambda: fake_api.sent_to(5301) and any(
        m["Subject"].startswith("Ответ в запросе") for _, m in mailbox.messages), pause=0.2)
    assert {d.status for d in Delivery.select()} == {"sent"}
    telegram = fake_api.sent_to(5301)[-1]["text"]
    email = next(m for _, m in mailbox.messages if m["Subject"].startswith("Ответ в запросе"))
    plain = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = email.get_body(("html",)).get_content()
    url = f"{bound.settings.public_url}/tickets/{ticket.number}"
    assert plain.split("\n\n-- \n")[0].rstrip("\n") == telegram  # the same text, the email only adds its footer
    assert STAFF_REPLY in telegram and telegram.endswith(url)
    assert f'<a href="{url}">{url}</a>' in html and "&lt;b&gt;бот&lt;/b&gt; &amp; вебхук" in html

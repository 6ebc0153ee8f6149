"""Seed 000 played end to end against the fake Bot API with the PlanetaHost example config."""
from __future__ import annotations

import shutil

import pytest

from engine import accounts, delivery, tickets
from engine import notify as notify_module
from engine.settings import PROJECT_ROOT
from engine.store.models import Attachment, Delivery, Notification, TelegramLink, Ticket
from tests.telegram.chat import JPEG, PDF, Chat
from tests.telegram.conftest import NOTIFY_TOKEN, SUPPORT_TOKEN, text
from tests.waiting import wait_for

pytestmark = pytest.mark.postgres  # conversation state, update ids and links must hold on PostgreSQL too

CHAT = 424242


@pytest.fixture
def config_dir(tmp_path):
    """The PlanetaHost example service (seed 000) instead of the shipped config."""
    target = tmp_path / "planetahost"
    shutil.copytree(PROJECT_ROOT / "examples" / "planetahost", target)
    return target


@pytest.fixture
def customer(rt):
    return accounts.create_user("client@example.com", "secret-password-1", name="Клиент")


def deliver_telegram(rt, type_id: str) -> None:
    """Run the telegram outbox rows of one notification type as the worker would (waiting out 1 msg/s per chat)."""
    rows = Delivery.select().join(Notification).where((Delivery.channel == "telegram") & (Notification.type_id == type_id))

    def all_sent() -> bool:
        for row in rows.clone():
            delivery.process(rt, row.id)
        return {r.status for r in rows.clone()} == {"sent"}

    wait_for(all_sent, interval=0.1, message=f"every {type_id} telegram row sent")


def create_seed_ticket(rt, chat: Chat) -> Ticket:
    chat.send("/createticket")
    chat.send("Не открывается сайт").press("Пропустить")
    chat.send("Сайт выдаёт 502").photo(JPEG).document(PDF, "invoice.pdf")
    chat.press("Завершить")
    return Ticket.get()


def test_seed_000_whole_story(rt, fake_api, bots, customer):
    """Link, Menu, create with Skip and 2 files, agent reply arrives with buttons, reply with a file, archive."""
    chat = Chat(fake_api, SUPPORT_TOKEN, CHAT, username="client_tg")
    chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    assert chat.last == text(rt, "start_linked")
    link = TelegramLink.get(TelegramLink.binding == "support_bot")
    assert (link.user_id, link.chat_id, link.tg_user_id) == (customer.id, CHAT, CHAT)

    menu = [c["command"] for c in fake_api.bots[SUPPORT_TOKEN].commands]
    assert menu == ["createticket", "tickets", "archive", "help", "cancel", "language"]

    chat.send("/createticket")  # one topic offered in Telegram: straight to the form
    assert chat.texts()[-2].startswith("Тема: Запрос в техническую поддержку")
    assert chat.last.startswith("Тема запроса")
    chat.send("Не открывается сайт")
    assert chat.last.startswith("ID услуги в системе BILLmanager")
    assert chat.buttons() == ["Где найти?", "Пропустить", "Отмена"]
    chat.press("Где найти?")
    assert chat.last.startswith("Откройте BILLmanager, раздел «Товары/Услуги»")
    chat.send("abc-12")
    assert chat.texts()[-2] == "ID услуги состоит только из цифр, например 123456."
    assert chat.last.startswith("ID услуги в системе BILLmanager")
    chat.press("Пропустить")
    assert chat.last.startswith("Ваш вопрос")
    chat.send("Сайт выдаёт 502 с утра")
    assert chat.last == text(rt, "text_added")
    chat.photo(JPEG)  # Telegram recompresses photos to JPEG
    assert chat.last.startswith("Файл «photo_") and "(1 из 5)" in chat.last
    chat.document(PDF, "invoice.pdf")
    assert chat.last.startswith("Файл «invoice.pdf» добавлен (2 из 5)")
    chat.press("Завершить")

    ticket = Ticket.get()
    assert chat.last == text(rt, "ticket_created", number=ticket.number)
    # The seed's "уведомление в верхней части чата": the answer to the «Завершить» press.
    assert list(fake_api.callbacks.values())[-1]["text"] == text(rt, "ticket_created", number=ticket.number)
    assert (ticket.subject, ticket.channel, ticket.topic_id) == ("Не открывается сайт", "telegram", "general")
    assert "service_id" not in ticket.fields
    first = tickets.ticket_messages(ticket)[0]
    assert first.body == "Сайт выдаёт 502 с утра"
    assert sorted(a.original_name for a in first.attachments)[0] == "invoice.pdf"
    assert sorted(a.content_type for a in Attachment.select()) == ["application/pdf", "image/jpeg"]

    agent = accounts.create_user("agent@example.com", "agent-password-1", role="agent")
    tickets.add_reply(rt, ticket, agent, "Перезапустили веб-сервер, проверьте <b>сайт</b>.", [], "web")
    deliver_telegram(rt, "support_reply")
    [reply] = [m for m in chat.messages if "Перезапустили" in m["text"]]
    assert reply["text"].endswith(f"Перезапустили веб-сервер, проверьте <b>сайт</b>.\n\nОткрыть запрос: "
                                  f"{rt.settings.public_url}/tickets/{ticket.number}")
    assert f"#{ticket.number}" in reply["text"]
    assert fake_api.buttons(reply) == [("Добавить ответ", f"r:{ticket.number}"), ("Добавить в архив", f"a:{ticket.number}")]

    chat.press("Добавить ответ")
    assert chat.last == text(rt, "ask_reply", number=ticket.number)
    chat.send("Теперь работает, но медленно").document(b"log line\n", "error.txt", "text/plain")
    chat.press("Завершить")
    assert chat.last == text(rt, "reply_added", number=ticket.number)
    last = tickets.ticket_messages(ticket)[-1]
    assert (last.author_kind, last.body, [a.original_name for a in last.attachments]) == (
        "customer", "Теперь работает, но медленно", ["error.txt"])

    chat.press("Добавить в архив")
    assert chat.last == text(rt, "confirm_archive", number=ticket.number)
    chat.press("Да, в архив")
    assert chat.last == text(rt, "archived", number=ticket.number)
    assert Ticket.get_by_id(ticket.id).status == "archived"
    assert fake_api.unanswered_callbacks() == []


def test_notification_bot_links_silently_by_username(rt, fake_api, bots, customer):
    """PlanetaHost_bot: the username entered in settings links the chat on /start, with no confirmation."""
    accounts.set_telegram_username(rt, customer, "client_tg", enabled=True)
    chat = Chat(fake_api, NOTIFY_TOKEN, 777, username="Client_TG")
    chat.send("/start")
    assert chat.messages == []
    assert TelegramLink.get(TelegramLink.binding == "notify_bot").user_id == customer.id


def test_notification_bot_delivers_its_types_without_buttons(rt, fake_api, bots, customer):
    """Low balance reaches PlanetaHost_bot's chat as the config's template; only ticket bots add ticket buttons."""
    accounts.set_telegram_username(rt, customer, "client_tg", enabled=True)
    Chat(fake_api, NOTIFY_TOKEN, 778, username="client_tg").send("/start")
    notify_module.notify(rt.catalog, customer, "low_balance", {"balance": 12.5, "currency": "RUB"})
    deliver_telegram(rt, "low_balance")
    [message] = fake_api.sent_to(778, NOTIFY_TOKEN)
    assert message["text"].startswith("Уведомление о низком балансе: на счёте 12.5 RUB.")
    assert "reply_markup" not in message


def test_tickets_list_and_open(rt, fake_api, bots, customer):
    """/tickets lists active tickets; opening one shows the last messages and both buttons."""
    chat = Chat(fake_api, SUPPORT_TOKEN, CHAT)
    chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    ticket = create_seed_ticket(rt, chat)
    chat.send("/tickets")
    assert chat.last == text(rt, "active_tickets") + f"\n#{ticket.number} — Запрос в техническую поддержку: Не открывается сайт (Новый)"
    assert chat.buttons() == [f"#{ticket.number} · Не открывается сайт · Новый"]
    chat.press(chat.buttons()[0])
    assert chat.last.startswith(f"Запрос #{ticket.number}: Не открывается сайт")
    assert "Сайт выдаёт 502" in chat.last and "invoice.pdf" in chat.last
    assert chat.buttons() == ["Добавить ответ", "Добавить в архив"]
    chat.send("/archive")
    assert chat.last == text(rt, "no_archived_tickets")

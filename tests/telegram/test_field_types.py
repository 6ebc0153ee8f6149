"""Each field type asked and checked in Telegram: integer, date, boolean buttons, optional email, message with no files."""
from __future__ import annotations

import pytest

from engine import accounts
from engine.store.models import Ticket
from tests.telegram.chat import Chat
from tests.telegram.conftest import SUPPORT_TOKEN, text

FORM = """id: all-types
title: Все типы
fields:
  - {id: count, label: Сколько устройств?, type: integer, min: 1, max: 10, required: true}
  - {id: since, label: С какого дня?, type: date, required: true}
  - {id: urgent, label: Срочно?, type: boolean, required: true}
  - {id: contact, label: Почта для связи, type: email}
  - {id: subject, label: Тема, type: string, required: true}
  - {id: message, label: Описание, type: text, required: true}
"""
CATEGORY = """id: aaa-test
title: Проверка типов
order: 1
topics:
  - {id: all, title: Все типы полей, form: all-types, channels: [telegram]}
"""


@pytest.fixture
def config_dir(config_dir):
    (config_dir / "forms" / "all-types.yaml").write_text(FORM, encoding="utf-8")
    (config_dir / "categories" / "aaa-test.yaml").write_text(CATEGORY, encoding="utf-8")
    return config_dir


def test_every_type_in_one_conversation(rt, fake_api, bots):
    customer = accounts.create_user("types@example.com", "secret-password-1")
    chat = Chat(fake_api, SUPPORT_TOKEN, 2024)
    chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    chat.send("/createticket").press("Проверка типов").press("Все типы полей")
    assert chat.last == "Сколько устройств?\n" + text(rt, "hint_integer")
    validation = lambda key, **p: rt.catalog.text("ru", "validation", key, **p)  # noqa: E731
    for wrong, error in (("много", validation("not_integer")), ("11", validation("too_large", max=10))):
        chat.send(wrong)
        assert chat.texts()[-2] == error
    chat.send("3")
    assert chat.last == "С какого дня?\n" + text(rt, "hint_date")
    chat.send("31.02.2026")
    assert chat.texts()[-2] == validation("not_date")
    chat.send("01.03.2026")
    assert chat.buttons() == ["Да", "Нет", "Отмена"]
    chat.send("может быть")
    assert chat.texts()[-2] == validation("not_boolean")
    chat.press("Да")
    assert chat.last.startswith("Почта для связи\n" + text(rt, "hint_email"))
    chat.send("not-an-email")
    assert chat.texts()[-2] == validation("not_email")
    chat.press("Пропустить")
    chat.send("Принтер").send("Не печатает").press("Завершить")
    ticket = Ticket.get()
    assert ticket.fields == {"count": 3, "since": "2026-03-01", "urgent": True}
    assert chat.last == text(rt, "ticket_created", number=ticket.number)

"""/createticket with the shipped config: paged categories, topics, field validation, select, visible_when, search."""
from __future__ import annotations

import pytest

from engine.store.models import BotConversation, Ticket
from tests.telegram.chat import Chat
from tests.telegram.conftest import SUPPORT_TOKEN, text

CHAT = 5005


@pytest.fixture
def chat(rt, fake_api, bots):
    """A linked customer in a private chat with the support bot."""
    return Chat.linked(rt, fake_api, SUPPORT_TOKEN, CHAT, "c@example.com")


def open_chat_problem(chat: Chat) -> None:
    chat.send("/createticket").press("Чаты и рассылки").press("Проблема с чатами")


def test_categories_are_paged_in_place(rt, chat, fake_api):
    """Eight categories a page; «Далее »» edits the same message to the next page."""
    chat.send("/createticket")
    first = chat.messages[-1]
    assert len(chat.buttons()) == 8 + 2  # categories, «Далее »», «Отмена»
    chat.press("Далее »")
    page2 = chat.messages[-1]
    assert page2["message_id"] == first["message_id"] and "edit_date" in page2
    titles = [c.title for c in rt.catalog.categories_for("telegram")]
    assert chat.buttons() == [*titles[8:], "« Назад", "Отмена"]


def test_topics_show_descriptions_and_lead_to_fields(rt, chat):
    chat.send("/createticket").press("Чаты и рассылки")
    assert chat.last.startswith("Категория «Чаты и рассылки». Выберите тему запроса:")
    assert "• Проблема с чатами — Разбор ошибок во время чат-сессии" in chat.last
    chat.press("Проблема с чатами")
    assert chat.last.startswith("Номер ЛК")
    assert chat.buttons() == ["Где найти?", "Отмена"]  # required: no «Пропустить»


def test_whole_form_with_wrong_then_right_id(rt, chat):
    """A wrong account id gets the engine's message and the question again; a select answers by button."""
    open_chat_problem(chat)
    chat.send("abc")
    assert chat.texts()[-2] == "Номер ЛК состоит только из цифр, например 12345."
    assert chat.last.startswith("Номер ЛК")
    chat.send("12345")
    assert chat.last.startswith("Идентификатор чата, в котором происходил диалог")
    chat.press("Где найти?")
    assert chat.last.startswith("Чтобы получить нужный идентификатор, откройте раздел Чаты → Настройки")
    chat.press("Пропустить")
    assert chat.last.startswith("Идентификатор диалога")
    chat.send("dlg-77")
    assert chat.last.startswith("Канал коммуникации")
    chat.send("Голубиная почта")
    assert chat.texts()[-2] == rt.catalog.text("ru", "validation", "not_option")
    chat.press("Telegram")  # visible_when: «Какой канал связи?» only after «Другое»
    assert chat.last.startswith("Краткий смысл")
    chat.send("Диалог обрывается")
    assert chat.last.startswith("Подробное описание проблемы")
    chat.press("Завершить")
    assert chat.last == text(rt, "finish_first")
    chat.send("После третьего сообщения бот молчит").press("Завершить")
    ticket = Ticket.get()
    assert chat.last == text(rt, "ticket_created", number=ticket.number)
    assert ticket.fields == {"account_id": "12345", "dialog_id": "dlg-77", "channel": "Telegram"}
    assert (ticket.subject, ticket.topic_id) == ("Диалог обрывается", "chat-problem")


def test_visible_when_asks_the_dependent_field(rt, chat):
    open_chat_problem(chat)
    chat.send("12345").press("Пропустить").press("Пропустить").press("Другое")
    assert chat.last.startswith("Какой канал связи?")


def test_typed_phrase_suggests_topics(rt, chat):
    """«I don't know what to pick»: typing at the category step offers the search's topics."""
    chat.send("/createticket").send("не проходит оплата картой, деньги списались")
    assert chat.last.startswith(text(rt, "suggestions"))
    assert chat.buttons()[-2:] == ["« К категориям", "Отмена"]
    chat.press(chat.buttons()[0])
    assert BotConversation.get().state["step"] == "field"


def test_cancel_anywhere(rt, chat):
    open_chat_problem(chat)
    chat.press("Отмена")
    assert chat.last == text(rt, "cancelled")
    assert BotConversation.get().state == {}
    chat.send("12345")
    assert chat.last == text(rt, "help")
    chat.send("/cancel")
    assert chat.last == text(rt, "nothing_to_cancel")


def test_old_buttons_are_stale(rt, chat, fake_api):
    """A «Пропустить» pressed on an earlier question does not skip the current one."""
    open_chat_problem(chat)
    chat.send("12345")
    old = chat.messages[-1]
    chat.press("Пропустить")
    fake_api.press_button(SUPPORT_TOKEN, CHAT, "Пропустить", message=old)
    fake_api.wait_idle(SUPPORT_TOKEN)
    assert chat.last.startswith("Идентификатор диалога")
    assert fake_api.unanswered_callbacks() == []
    assert [q.get("text") for q in fake_api.callbacks.values()][-1] == text(rt, "stale_button")

"""A config reload in the middle of /createticket is noticed at the very next step, not at «Завершить»: a topic
made web-only or removed, a field removed or changed; the answers that still apply are kept."""
from __future__ import annotations

import pytest

from engine.store.models import Ticket
from tests.telegram.chat import Chat
from tests.telegram.conftest import SUPPORT_TOKEN, text

CHAT = 7007


@pytest.fixture
def chat(rt, fake_api, bots):
    chat = Chat.linked(rt, fake_api, SUPPORT_TOKEN, CHAT, "reload@example.com")
    chat.send("/createticket").press("Чаты и рассылки").press("Проблема с чатами")
    chat.send("12345")  # the account number, answered
    assert chat.last.startswith("Идентификатор чата")
    return chat


def edit(path, old: str, new: str) -> None:
    source = path.read_text(encoding="utf-8")
    assert old in source, old
    path.write_text(source.replace(old, new, 1), encoding="utf-8")


def reply_after_reload(rt, chat: Chat, answer: str) -> list[str]:
    """Reload the edited config, answer the question on screen; the bot's replies to that answer."""
    assert rt.catalogs.reload()
    sent = len(chat.messages)
    chat.send(answer)
    return chat.texts(sent)


def remove_topic(config_dir, topic_id: str) -> None:
    category = config_dir / "categories" / "chats.yaml"
    source = category.read_text(encoding="utf-8")
    start = source.index(f"  - id: {topic_id}")
    end = source.index("  - id:", start + 5)
    category.write_text(source[:start] + source[end:], encoding="utf-8")


def test_topic_made_web_only_is_said_at_the_next_step_and_the_answers_kept(rt, chat, config_dir):
    edit(config_dir / "categories" / "chats.yaml", "    form: chat-problem\n", "    form: chat-problem\n    channels: [web]\n")
    assert reply_after_reload(rt, chat, "chat-42")[0] == text(rt, "topic_unavailable", topic="Проблема с чатами")
    assert "Проблема с чатами" not in chat.buttons() and "Ошибка в работе бота" in chat.buttons()
    chat.press("Ошибка в работе бота")
    assert chat.last.startswith("Идентификатор сценария бота")  # its form's account number was carried over


def test_topic_removed_is_said_at_the_next_button_press(rt, chat, config_dir):
    remove_topic(config_dir, "chat-problem")
    assert rt.catalogs.reload()
    chat.press("Где найти?")
    assert chat.texts()[-2] == text(rt, "topic_gone", topic="Проблема с чатами")
    assert chat.last.startswith(text(rt, "suggestions"))


def test_a_category_left_without_telegram_topics_offers_the_categories(rt, chat, config_dir):
    edit(config_dir / "categories" / "chats.yaml", "id: chats\n", "id: chats\nchannels: [web]\n")
    assert reply_after_reload(rt, chat, "chat-42")[0] == text(rt, "topic_unavailable", topic="Проблема с чатами")
    assert chat.last == text(rt, "choose_category") or chat.last.startswith(text(rt, "suggestions"))
    assert "Чаты и рассылки" not in chat.buttons()  # (other categories have topics of the same titles)


def test_a_removed_field_is_said_and_the_flow_goes_on(rt, chat, config_dir):
    form = config_dir / "forms" / "chat-problem.yaml"
    source = form.read_text(encoding="utf-8")
    start = source.index("  - use: account_id\n")
    form.write_text(source[:start] + source[source.index("  - use: chat_id\n", start):], encoding="utf-8")
    assert reply_after_reload(rt, chat, "chat-42")[0] == text(rt, "field_removed", field="Номер ЛК")
    assert chat.last.startswith("Идентификатор диалога")  # the typed chat id was taken


def test_a_changed_field_refusing_the_answer_is_asked_again(rt, chat, config_dir):
    edit(config_dir / "forms" / "chat-problem.yaml", "  - use: account_id\n    required: true\n",
         "  - use: account_id\n    required: true\n    pattern: '\\d{6}'\n")
    assert reply_after_reload(rt, chat, "chat-42")[0] == text(rt, "field_changed", field="Номер ЛК")
    assert chat.last.startswith("Номер ЛК")
    chat.send("123456")
    assert chat.last.startswith("Идентификатор диалога")  # the chat id typed with the notice was taken


def test_a_reworded_field_goes_on_as_started(rt, chat, config_dir):
    edit(config_dir / "forms" / "chat-problem.yaml", "ru: \"Идентификатор чата, в котором происходил диалог\"",
         "ru: ID чата")
    replies = reply_after_reload(rt, chat, "chat-42")
    assert len(replies) == 1 and replies[0].startswith("Идентификатор диалога")
    assert Ticket.select().count() == 0

"""Faults and hostile input around the bots: restarts, reloads, Telegram errors, big or too many files, bad data."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from channels.telegram import pace
from channels.telegram.client import BotConfigError
from channels.telegram.runner import BotRunner, apps_for
from engine import accounts
from engine.store.models import Attachment, BotConversation, LinkToken, ProcessedUpdate, TelegramLink, Ticket
from tests.telegram.chat import JPEG, Chat
from tests.telegram.conftest import SUPPORT_TOKEN, text

pytestmark = pytest.mark.postgres  # conversation state, update ids and links must hold on PostgreSQL too

CHAT = 6006


@pytest.fixture
def customer(rt):
    return accounts.create_user("r@example.com", "secret-password-1")


@pytest.fixture
def chat(rt, fake_api, bots, customer):
    chat = Chat(fake_api, SUPPORT_TOKEN, CHAT)
    chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    return chat


def at_message_step(chat: Chat) -> None:
    """The «Иное» topic of «Чаты и рассылки»: account number, subject, then the message step."""
    chat.send("/createticket").press("Чаты и рассылки").press("Иное")
    chat.send("12345").send("Вопрос")
    assert chat.last.startswith("Подробное описание проблемы")


def test_bot_restart_between_two_steps(rt, fake_api, bots, chat):
    """A new bot process picks the conversation up from the database."""
    chat.send("/createticket").press("Чаты и рассылки").press("Проблема с чатами")
    bots.stopping.set()
    fake_api.interrupt_polls()
    bots.stop()
    restarted = BotRunner(rt, apps_for(rt), poll_timeout=1)
    restarted.prepare()
    restarted.start()
    try:
        chat.send("12345")
        assert chat.last.startswith("Идентификатор чата")
    finally:
        restarted.stopping.set()
        fake_api.interrupt_polls()
        restarted.stop()


def test_config_reload_keeps_the_started_form(rt, chat, config_dir):
    """A renamed field mid-conversation: the conversation goes on with the labels it started with."""
    chat.send("/createticket").press("Чаты и рассылки").press("Проблема с чатами")
    forms = config_dir / "forms" / "chat-problem.yaml"
    forms.write_text(forms.read_text(encoding="utf-8").replace(
        "label: Идентификатор чата, в котором происходил диалог", "label: ID чата (новая подпись)"), encoding="utf-8")
    assert rt.catalogs.reload()
    chat.send("12345")
    assert chat.last.startswith("Идентификатор чата, в котором происходил диалог")


def test_config_reload_removing_the_topic_restarts_politely(rt, chat, config_dir):
    chat.send("/createticket").press("Чаты и рассылки").press("Проблема с чатами")
    category = config_dir / "categories" / "chats.yaml"
    source = category.read_text(encoding="utf-8")
    start = source.index("  - id: chat-problem")
    end = source.index("  - id:", start + 5)
    category.write_text(source[:start] + source[end:], encoding="utf-8")
    assert rt.catalogs.reload()
    chat.send("12345")
    assert chat.texts()[-2] == text(rt, "topic_gone", topic="Проблема с чатами")
    assert chat.last.startswith(text(rt, "suggestions"))  # the closest topics of the same category
    assert "Ошибка в работе бота" in chat.buttons()


def test_429_waits_retry_after_then_sends(rt, fake_api, chat):
    """Telegram says «retry after 2»: the answer goes out no sooner, exactly once; once the update is confirmed, the
    chat's send slot is free again (the polling bot releases its slots late, at the latest when the batch ends)."""
    fake_api.fail("sendMessage", "429", retry_after=2, chat_id=CHAT)
    chat.send("/help")
    sends = [c for c in fake_api.calls_of("sendMessage") if str(c.params.get("chat_id")) == str(CHAT)][-2:]
    assert [c.status for c in sends] == [429, 200]
    assert sends[1].at - sends[0].at >= 2
    assert chat.last == text(rt, "help")
    assert rt.redis.hget(pace.route(rt.catalog.policies.telegram_rate, SUPPORT_TOKEN, CHAT).serial.key, "holder") is None


def test_blocked_user_deactivates_the_link(rt, fake_api, chat):
    """403 «bot was blocked by the user»: no retries, the chat's link is switched off."""
    fake_api.blocked.add(CHAT)
    chat.send("/tickets")
    link = TelegramLink.get(TelegramLink.chat_id == CHAT)
    assert (link.active, link.deactivated_reason) == (False, "telegram 403: Forbidden: bot was blocked by the user")
    assert len([c for c in fake_api.calls_of("sendMessage") if c.status == 403]) == 1


def test_sixth_file_of_an_album_is_refused(rt, fake_api, chat):
    """An album counts file by file: five are taken, the sixth is refused with the limit, all said in one reply."""
    at_message_step(chat)
    chat.send("Скриншоты")
    sent = len(chat.messages)
    chat.album([JPEG + bytes([i]) for i in range(6)])
    fake_api.wait_sent(CHAT, sent + 1)
    summary = chat.last.split("\n")
    assert summary[0] == text(rt, "album_summary", added=5, refused=1, count=5, max_files=5)
    assert summary[1].endswith("не добавлен: Можно прикрепить не больше 5 файлов.") and len(summary) == 2
    assert len(chat.messages) == sent + 1
    chat.press("Завершить")
    assert Attachment.select().count() == 5


def test_25_mb_file_is_refused_clearly(rt, fake_api, chat):
    at_message_step(chat)
    chat.document(None, "dump.zip", "application/zip", size=25 * 1024 * 1024)
    assert chat.last == text(rt, "file_too_big_telegram", name="dump.zip", max_mb=20)
    assert fake_api.calls_of("getFile") == []


@pytest.mark.parametrize("data", ["", "zzz", "t:ffffffffff", "v:999999", "r:-1", "ay:abc", "o:1:99", "c:../../etc",
                                  "f:1", "a:" + "9" * 60])
def test_garbage_callback_data(rt, fake_api, chat, data):
    """Forged or stale button data: answered, nothing changes, no crash."""
    count = len(chat.messages)
    chat.press_data(data)
    assert fake_api.unanswered_callbacks() == []
    assert len(chat.messages) <= count + 1
    assert Ticket.select().count() == 0


def test_other_customers_ticket_is_not_found(rt, fake_api, chat):
    other = accounts.create_user("other@example.com", "secret-password-2")
    foreign = Chat(fake_api, SUPPORT_TOKEN, 9009)
    foreign.send(f"/start {accounts.issue_link_token(rt, other, 'support_bot')}")
    foreign.send("/createticket").press("Чаты и рассылки").press("Иное").send("1").send("Чужой").send("Текст").press("Завершить")
    number = Ticket.get().number
    for data in (f"v:{number}", f"r:{number}", f"ay:{number}"):
        chat.press_data(data)
        assert chat.last == text(rt, "ticket_not_found")
    assert Ticket.get().status == "new"


def test_unlinked_user_cannot_create_tickets(rt, fake_api, bots):
    stranger = Chat(fake_api, SUPPORT_TOKEN, 7007, username="nobody")
    stranger.send("/start")
    assert stranger.last == text(rt, "start_unlinked")
    stranger.send("/createticket")
    assert stranger.last == text(rt, "not_linked")
    stranger.send("просто текст")
    assert stranger.last == text(rt, "not_linked")


def test_link_token_from_a_group_is_refused_and_spent(rt, fake_api, bots, customer):
    """The group's members saw the code: refused with the reason, and nobody can link with it later in private."""
    token = accounts.issue_link_token(rt, customer, "support_bot")
    group = Chat(fake_api, SUPPORT_TOKEN, -100500, chat_type="group", user_id=8008)
    group.send(f"/start {token}")
    assert group.last == text(rt, "link_code_in_group")
    assert group.last.startswith("Код привязки принимается только в личном чате с ботом.")
    english = Chat(fake_api, SUPPORT_TOKEN, -100600, chat_type="supergroup", user_id=8010)
    english.user["language_code"] = "en"
    english.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    assert english.last == text(rt, "link_code_in_group", "en")
    for stranger in (8009, 8008):  # another member of the group, then the sender himself
        private = Chat(fake_api, SUPPORT_TOKEN, stranger)
        private.send(f"/start {token}")
        assert private.last == text(rt, "link_invalid")
    assert TelegramLink.select().count() == 0


def test_token_reuse_and_brute_force(rt, fake_api, bots, customer):
    token = accounts.issue_link_token(rt, customer, "support_bot")
    Chat(fake_api, SUPPORT_TOKEN, 1).send(f"/start {token}")
    thief = Chat(fake_api, SUPPORT_TOKEN, 2)
    thief.send(f"/start {token}")
    assert thief.last == text(rt, "link_invalid")
    for guess in range(5):
        thief.send(f"/start guess{guess}")
    assert thief.last.startswith("Слишком много попыток привязки")


def test_linked_chat_used_by_another_telegram_user_is_not_linked(rt, fake_api, chat):
    """Links are bound to the numeric user id: someone else writing from that chat id is a stranger."""
    impostor = Chat(fake_api, SUPPORT_TOKEN, CHAT, user_id=999)
    impostor.send("/tickets")
    assert impostor.last == text(rt, "not_linked")


def test_repeated_update_is_handled_once(rt, fake_api, chat):
    update = {"update_id": 5_000_000, "message": {"message_id": 900, "date": 0, "text": "/help",
                                                  "from": fake_api.user(CHAT), "chat": {"id": CHAT, "type": "private"}}}
    before = len(chat.messages)
    fake_api.push_update(SUPPORT_TOKEN, dict(update))
    fake_api.wait_idle(SUPPORT_TOKEN)
    fake_api.push_update(SUPPORT_TOKEN, dict(update))
    fake_api.wait_idle(SUPPORT_TOKEN)
    assert len(chat.messages) == before + 1
    assert ProcessedUpdate.select().where(ProcessedUpdate.update_id == 5_000_000).count() == 1


def test_customer_markup_is_sent_as_plain_text(rt, fake_api, chat):
    """No parse mode anywhere: «<script>» in a subject reaches Telegram as text, never as markup."""
    at_message_step(chat)
    chat.send('<script>alert(1)</script><b onclick="x">').press("Завершить")
    chat.send("/tickets")
    assert all(c.params.get("parse_mode") is None for c in fake_api.calls_of("sendMessage"))
    chat.press(chat.buttons()[0])
    assert '<script>alert(1)</script><b onclick="x">' in chat.last


def test_long_ticket_view_is_split(rt, fake_api, chat):
    at_message_step(chat)
    chat.send("x" * 3000).send("y" * 3000).press("Завершить")
    count = len(chat.messages)
    chat.send("/tickets").press(f"#{Ticket.get().number} · Вопрос · Новый")
    parts = chat.messages[count + 1:]
    assert len(parts) == 2 and all(len(m["text"]) <= 4096 for m in parts)
    assert fake_api.buttons(parts[-1])


def test_state_lives_in_the_database(rt, chat):
    chat.send("/createticket").press("Чаты и рассылки")
    state = BotConversation.get((BotConversation.binding == "support_bot") & (BotConversation.chat_id == CHAT)).state
    assert (state["flow"], state["step"], state["category"]) == ("create", "topic", "chats")


def test_missing_token_fails_at_start_naming_the_binding(rt, settings):
    rt.settings = settings.with_overrides(env={"SUPPORT_BOT_TOKEN": "1001:SUPPORT-test-token"})
    with pytest.raises(BotConfigError, match="telegram binding 'notify_bot': environment variable NOTIFY_BOT_TOKEN is not set"):
        apps_for(rt)


def test_wrong_token_fails_at_start_naming_the_binding(rt, settings):
    rt.settings = settings.with_overrides(env={"SUPPORT_BOT_TOKEN": "1001:wrong", "NOTIFY_BOT_TOKEN": "1002:NOTIFY-test-token"})
    runner = BotRunner(rt, apps_for(rt))
    with pytest.raises(BotConfigError, match=r"telegram binding 'support_bot': Telegram refused the token \(401 Unauthorized\)"):
        runner.prepare()


def test_double_press_of_finish_creates_one_ticket(rt, fake_api, chat):
    """Two «Завершить» presses arriving together (a double tap, or a retried update): one ticket."""
    at_message_step(chat)
    chat.send("Описание")
    message = chat.messages[-1]
    data = dict(fake_api.buttons(message))["Завершить"]
    fake_api.press(SUPPORT_TOKEN, CHAT, data, message_id=message["message_id"])
    fake_api.press(SUPPORT_TOKEN, CHAT, data, message_id=message["message_id"])
    fake_api.wait_idle(SUPPORT_TOKEN)
    assert Ticket.select().count() == 1
    assert [q.get("text") for q in fake_api.callbacks.values()][-2:] == [
        text(rt, "ticket_created", number=Ticket.get().number), text(rt, "stale_button")]


def test_reload_adding_a_required_field_asks_it_at_the_end(rt, chat, config_dir):
    """The form gained a required field while the customer typed: it is asked after the message, nothing fails."""
    at_message_step(chat)
    form = config_dir / "forms" / "general.yaml"
    form.write_text(form.read_text(encoding="utf-8") + "  - {id: city, label: Ваш город, type: string, required: true}\n",
                    encoding="utf-8")
    assert rt.catalogs.reload()
    chat.send("Описание").press("Завершить")
    assert chat.last.startswith("Ваш город")
    chat.send("Казань")
    ticket = Ticket.get()
    assert chat.last == text(rt, "ticket_created", number=ticket.number)
    assert (ticket.fields, ticket.subject) == ({"account_id": "12345", "city": "Казань"}, "Вопрос")


def test_expired_token_is_refused(rt, fake_api, bots, customer):
    token = accounts.issue_link_token(rt, customer, "support_bot")
    LinkToken.update(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)).execute()
    stranger = Chat(fake_api, SUPPORT_TOKEN, 3131)
    stranger.send(f"/start {token}")
    assert stranger.last == text(rt, "link_invalid")
    assert TelegramLink.select().count() == 0

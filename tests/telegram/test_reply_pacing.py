"""The bots' own replies under Telegram's limits: paced with the workers, split (also when editing), queued when they
cannot go now and delivered later in order, never dropped."""
from __future__ import annotations

import pytest

from channels.telegram.sender import edit_text, send_text
from engine import accounts, jobs, tickets
from engine.store.models import Ticket, User
from tests.notify.conftest import work_until
from tests.telegram.chat import Chat
from tests.telegram.conftest import SUPPORT_TOKEN, text
from tests.telegram.test_reliability import at_message_step

PACED_AT_TELEGRAM_RATES = True  # the shipped 1 message/s per chat (tests/telegram/conftest.py)
CHAT = 6106
LONG_REPLY = (("Проверьте настройки маршрутизатора 🚀 и перезапустите службу. " * 30 + "\n\n") * 8)[:10892]


def words(texts) -> list[str]:
    return " ".join(texts).split()


@pytest.fixture
def bound(rt):
    """Queued replies are drained by an RQ job: bind the test's Runtime for in-process worker runs."""
    jobs.bind_runtime(rt)
    yield rt
    jobs._bound.clear()


@pytest.fixture
def customer(rt):
    return accounts.create_user("p@example.com", "secret-password-1")


@pytest.fixture
def chat(rt, fake_api, bots, customer):
    chat = Chat(fake_api, SUPPORT_TOKEN, CHAT)
    chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    return chat


def sends_to(fake_api, chat_id: int) -> list:
    return [c for c in fake_api.calls_of("sendMessage") if int(c.params.get("chat_id", 0)) == chat_id]


def test_a_conversation_under_enforced_limits_never_gets_a_429(rt, fake_api, chat):
    """Quick steps of a real flow (several replies to one chat within a second) are paced: zero 429s."""
    limits = fake_api.enforce_limits()
    at_message_step(chat)
    chat.send("Бот молчит").send("/help").send("/tickets").send("/help")
    assert limits.refused == []
    assert chat.last == text(rt, "help")


def test_a_long_staff_reply_arrives_whole_in_the_ticket_view(rt, fake_api, chat, customer):
    """A 10,892-character staff reply, opened from /tickets, arrives complete and in order in parts Telegram takes."""
    fake_api.enforce_limits()
    at_message_step(chat)
    chat.send("Бот молчит").press("Завершить")
    ticket = Ticket.get()
    staff = User.create(email="agent@example.com", name="Агент", role="agent")
    tickets.add_reply(rt, ticket, staff, LONG_REPLY, [], "web")
    before = len(chat.messages)
    chat.send("/tickets").press(chat.buttons()[0])
    view = chat.texts(before + 1)
    assert len(view) >= 3 and all(len(t.encode("utf-16-le")) // 2 <= 4096 for t in view)
    assert " ".join(words(view)).find(" ".join(LONG_REPLY.split())) >= 0
    assert chat.buttons() == ["Добавить ответ", "Добавить в архив"]  # under the last part
    assert fake_api.limits.refused == []


def test_editing_to_a_long_text_edits_the_first_part_and_sends_the_rest(rt, fake_api):
    """An edit cannot grow a message past 4,096 units: the first part replaces it, the rest follow, buttons last."""
    from channels.telegram.sender import bot_of

    bot = bot_of(rt, "support_bot")
    [message] = send_text(rt, bot, CHAT, "Короткий текст", [[("x", "r:1")]])
    edit_text(rt, bot, CHAT, message["message_id"], LONG_REPLY, [[("y", "r:2")]])
    texts = [m["text"] for m in fake_api.sent_to(CHAT)]
    assert len(texts) >= 3 and fake_api.sent_to(CHAT)[0]["message_id"] == message["message_id"]
    assert words(texts) == LONG_REPLY.split()
    assert [fake_api.buttons(m) for m in fake_api.sent_to(CHAT)][-1] == [("y", "r:2")]
    assert not any(fake_api.buttons(m) for m in fake_api.sent_to(CHAT)[:-1])


def test_a_reply_behind_a_long_flood_wait_is_queued_and_sent_in_order(bound, fake_api, chat):
    """429 with retry_after 5 (longer than a conversation waits): the reply and the next one are queued, not dropped,
    and arrive after the wait, in order; the second did not jump ahead while the first waited."""
    fake_api.fail("sendMessage", "429", retry_after=5, times=1, chat_id=CHAT)
    before = len(chat.messages)
    chat.send("/help").send("/tickets")
    assert len(chat.messages) == before  # both wait: the bot is paused, the second goes behind the first
    work_until(bound, lambda: len(chat.messages) >= before + 2, pause=0.2)
    assert chat.texts(before) == [text(bound, "help"), text(bound, "no_active_tickets")]
    refused, *delivered = sends_to(fake_api, CHAT)[-3:]
    assert refused.status == 429 and all(c.at - refused.at >= 5 - 0.05 for c in delivered)


def test_a_reply_failing_three_times_is_queued_then_delivered(bound, fake_api, chat):
    """Telegram failing (502) on every quick try: the reply is queued and delivered by the worker, once."""
    fake_api.fail("sendMessage", "5xx", times=3, chat_id=CHAT)
    before = len(chat.messages)
    chat.send("/help")
    assert len(chat.messages) == before
    work_until(bound, lambda: len(chat.messages) > before, pause=0.2)
    assert chat.texts(before) == [text(bound, "help")]


def test_a_blocked_chat_drops_its_queue_and_is_unlinked(bound, fake_api, chat):
    """Only a permanent refusal stops a queued reply: the chat's link is deactivated, nothing is retried."""
    from engine.store.models import TelegramLink

    fake_api.fail("sendMessage", "5xx", times=3, chat_id=CHAT)
    chat.send("/help")
    fake_api.blocked.add(CHAT)
    work_until(bound, lambda: not TelegramLink.get(TelegramLink.chat_id == CHAT).active, pause=0.2)
    assert bound.redis.keys("tg:outbox:*") == []

"""Telegram deliveries against the fake Bot API: rate limits, 429 retry_after, 403/400 fallback to email."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from engine.notify import enqueue_deliveries, notify, set_preferences
from engine.store.models import Delivery, TelegramLink
from tests.notify.conftest import NOTIFY_TOKEN, link, make_customer, work, work_until, write_policies

BALANCE = {"balance": 42.5, "currency": "RUB"}


def send_many(rt, user, n=1, type_id="low_balance", params=BALANCE):
    with rt.db.atomic():
        ids = [notify(rt.catalog, user, type_id, params).id for _ in range(n)]
    enqueue_deliveries(rt, ids)
    return ids


def telegram_rows():
    return list(Delivery.select().where(Delivery.channel == "telegram").order_by(Delivery.id))


@pytest.fixture
def customer(bound):
    user = make_customer()
    link(user, 5001)
    return user


def test_notification_reaches_the_linked_chat_as_plain_text(bound, customer, fake_api):
    """The rendered template goes to the linked chat through the notification bot, without parse_mode."""
    send_many(bound, customer, params={"balance": 3, "currency": "<b>RUB</b>"})
    work(bound)
    [message] = fake_api.wait_sent(5001, 1, token=NOTIFY_TOKEN)
    assert message["text"] == "⚠️ Баланс вашего счёта: 3 <b>RUB</b>.\nПополните счёт, чтобы услуги не остановились."
    [call] = fake_api.calls_of("sendMessage")
    assert "parse_mode" not in call.params
    assert telegram_rows()[0].status == "sent"


def test_429_retry_after_is_honoured(clock, bound, customer, fake_api):
    """After 429 with retry_after=2 the next attempt comes at least 2 s later, and it is not counted against max_attempts."""
    fake_api.fail("sendMessage", "429", retry_after=2, times=1)
    send_many(bound, customer)
    work(bound)
    row = telegram_rows()[0]
    assert row.status == "pending" and row.attempts == 0 and "429" in row.last_error
    assert row.next_attempt_at >= clock.now() + timedelta(seconds=2)
    assert work_until(bound, lambda: fake_api.sent_to(5001), clock=clock)
    first, second = fake_api.calls_of("sendMessage")
    assert first.status == 429 and second.status == 200
    assert second.wall - first.wall >= 2.0  # on the test's clock, which moves half a second per worker run


@pytest.mark.parametrize("refusal, reason", [("403", "blocked"), ("400", "chat not found")])
def test_refused_chat_stops_retries_unlinks_and_falls_back_to_email(bound, fake_api, mailbox, refusal, reason):
    """403 blocked / 400 chat not found: one call only, link deactivated with the reason, email sent instead."""
    user = make_customer()
    link(user, 5002)
    from engine.notify import set_preferences

    set_preferences(user, {"low_balance": {"email": False}})  # email was not chosen: the fallback adds it
    fake_api.fail("sendMessage", refusal, times=100)
    send_many(bound, user)
    work(bound)
    [row] = telegram_rows()
    assert row.status == "failed" and reason in row.last_error
    assert not TelegramLink.get().active and reason in TelegramLink.get().deactivated_reason
    [(rcpt, message)] = mailbox.wait(1)
    assert rcpt == ["anna@example.com"] and message["Subject"] == "Низкий баланс: 42.5 RUB"
    work_until(bound, lambda: True, timeout=0)
    time.sleep(1.2)
    work(bound)
    assert len(fake_api.calls_of("sendMessage")) == 1
    send_many(bound, user)  # the next notification does not try the dead chat at all
    assert len(telegram_rows()) == 1


def test_no_second_email_when_email_was_already_chosen(bound, customer, fake_api, mailbox):
    """A refused chat does not duplicate an email the customer already gets."""
    fake_api.blocked.add(5001)
    send_many(bound, customer)
    work(bound)
    assert len(mailbox.wait(1)) == 1
    time.sleep(0.3)
    assert len(mailbox.messages) == 1
    assert Delivery.select().where(Delivery.channel == "email").count() == 1


def sends(fake_api, chat: int | None = None) -> list:
    """The accepted sendMessage calls (to one chat), in the order the fake received them."""
    return [c for c in fake_api.calls_of("sendMessage") if c.status == 200
            and (chat is None or int(c.params["chat_id"]) == chat)]


def numbers(calls) -> list[int]:
    """The balance each low_balance message carried: the order the notifications were made in."""
    return [int(float(re.search(r"счёта: ([\d.]+)", c.params["text"]).group(1))) for c in calls]


def test_60_notifications_to_one_chat_arrive_in_order_without_a_429(bound, config_dir, customer, fake_api):
    """60 to one chat with the fake enforcing Telegram's limits: zero 429s, each once, in the order they were made.

    The per-chat rate is scaled to 5/s (in the policy and in the fake alike) to keep the test short; the pacing is
    the same at 1/s (benchmarks/bench_fanout.py runs it at Telegram's real rates)."""
    write_policies(config_dir, telegram_rate={"per_bot_per_second": 30, "per_chat_per_second": 5})
    assert bound.catalogs.reload()
    limits = fake_api.enforce_limits(per_chat_per_second=5)
    with bound.db.atomic():
        ids = [notify(bound.catalog, customer, "low_balance", {"balance": n, "currency": "RUB"}).id for n in range(60)]
    enqueue_deliveries(bound, ids)
    work_until(bound, lambda: len(sends(fake_api, 5001)) >= 60, pause=0.05)
    assert limits.refused == []
    assert numbers(sends(fake_api, 5001)) == list(range(60))
    assert [m["text"] for m in fake_api.sent_to(5001)] == [c.params["text"] for c in sends(fake_api, 5001)]
    assert {r.status for r in telegram_rows()} == {"sent"} and {r.attempts for r in telegram_rows()} == {1}


def test_a_fan_out_to_many_chats_stays_under_every_limit_in_order(bound, fake_api):
    """Representative scale of "2,000 messages to 500 chats": 4 rounds to 60 chats (240 messages, about 8 s at the
    bot's 30/s): zero 429s, every chat gets its 4 in order. The rate is measured by benchmarks/bench_fanout.py."""
    limits = fake_api.enforce_limits()
    chats = range(8001, 8061)
    with bound.db.atomic():
        users = []
        for chat in chats:
            user = make_customer(email=f"c{chat}@example.com")
            link(user, chat)
            set_preferences(user, {"low_balance": {"email": False}})
            users.append(user)
        ids = [notify(bound.catalog, user, "low_balance", {"balance": n, "currency": "RUB"}).id
               for n in range(4) for user in users]
    enqueue_deliveries(bound, ids)
    work_until(bound, lambda: len(sends(fake_api)) >= 240, pause=0.05)
    assert limits.refused == []
    assert all(numbers(sends(fake_api, chat)) == [0, 1, 2, 3] for chat in chats)
    assert {r.status for r in telegram_rows()} == {"sent"}


def test_a_429_pauses_the_bot_for_every_chat(bound, fake_api):
    """After a 429 with retry_after=2 to one chat, nothing goes out through that bot, to any chat, for 2 s."""
    users = []
    for chat in (5101, 5102):
        user = make_customer(email=f"c{chat}@example.com")
        link(user, chat)
        set_preferences(user, {"low_balance": {"email": False}})
        users.append(user)
    fake_api.fail("sendMessage", "429", retry_after=2, times=1, chat_id=5101)
    send_many(bound, users[0])
    work(bound)
    refused_at = fake_api.calls_of("sendMessage")[0].at
    send_many(bound, users[1])
    work_until(bound, lambda: len(sends(fake_api)) >= 2, pause=0.1)
    assert all(c.at - refused_at >= 2 - 0.05 for c in sends(fake_api))


def test_a_long_notification_arrives_complete_in_parts(bound, customer, fake_api):
    """A support reply of 10,892 characters reaches the chat whole, in order, in parts Telegram accepts."""
    fake_api.enforce_limits()
    reply = ("Проверьте настройки маршрутизатора и перезапустите службу. " * 40 + "\n\n") * 5
    reply = reply[:10892]
    user = make_customer(email="long@example.com")
    link(user, 5201, binding="support_bot")
    send_many(bound, user, type_id="support_reply", params={"ticket_number": 7, "subject": "S", "reply": reply})
    work_until(bound, lambda: telegram_rows()[0].status == "sent", pause=0.1)
    parts = [m["text"] for m in fake_api.sent_to(5201)]
    assert len(parts) >= 3 and all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert " ".join(" ".join(parts).split()).endswith(" ".join(reply.split()))  # no ticket: no link line
    assert fake_api.limits.refused == []


def test_support_bot_delivers_only_its_types(bound, fake_api):
    """A chat linked to the support bot gets support replies but not billing events."""
    user = make_customer()
    link(user, 5004, binding="support_bot")
    send_many(bound, user)  # low_balance: not the support bot's
    assert telegram_rows() == []
    send_many(bound, user, type_id="support_reply", params={"ticket_number": 1, "subject": "S", "reply": "R"})
    assert [r.target for r in telegram_rows()] == ["support_bot:5004"]


def test_5xx_is_retried_with_backoff_then_delivered(clock, bound, customer, fake_api):
    """A Bot API 502 counts an attempt and is retried after the policy's backoff."""
    fake_api.fail("sendMessage", "5xx", times=1)
    send_many(bound, customer)
    work(bound)
    row = telegram_rows()[0]
    assert row.status == "pending" and row.attempts == 1 and "502" in row.last_error
    assert row.next_attempt_at >= clock.now() + timedelta(seconds=1)
    assert work_until(bound, lambda: fake_api.sent_to(5001), clock=clock)
    first, second = fake_api.calls_of("sendMessage")
    assert second.wall - first.wall >= 1.0  # on the test's clock, which moves half a second per worker run
    assert telegram_rows()[0].status == "sent" and telegram_rows()[0].attempts == 2


def test_a_person_on_both_bots_gets_each_notification_once(bound):
    """Ticket news goes through the support bot, other news through the notification bot; never both."""
    from engine.store.models import Ticket

    user = make_customer()
    link(user, 5005, binding="support_bot")
    link(user, 5005, binding="notify_bot")
    ticket = Ticket.create(number=1, customer=user, category_id="c", topic_id="t", priority="normal",
                           status="waiting_customer", subject="S", channel="web")
    reply = {"ticket_number": 1, "subject": "S", "reply": "R"}
    with bound.db.atomic():
        about_ticket = notify(bound.catalog, user, "support_reply", reply, ticket=ticket)
        plain = notify(bound.catalog, user, "support_reply", reply)
        billing = notify(bound.catalog, user, "low_balance", BALANCE)
    targets = {n.id: [d.target for d in n.deliveries if d.channel == "telegram"] for n in (about_ticket, plain, billing)}
    assert targets == {about_ticket.id: ["support_bot:5005"], plain.id: ["notify_bot:5005"], billing.id: ["notify_bot:5005"]}


def test_a_type_removed_from_the_config_fails_without_unlinking(bound, customer, config_dir, fake_api, mailbox):
    """Our own configuration error fails the delivery but neither unlinks the chat nor falls back to email."""
    from engine.notify import set_preferences

    set_preferences(customer, {"low_balance": {"email": False}})
    send_many(bound, customer)
    for name in ("types.yaml", "channels.yaml"):
        path = config_dir / "notifications" / name
        path.write_text(path.read_text().replace("low_balance", "low_balance_renamed"))
    assert bound.catalogs.reload(), bound.catalogs.last_errors
    work(bound)
    [row] = telegram_rows()
    assert row.status == "failed" and "no longer configured" in row.last_error
    assert TelegramLink.get().active and Delivery.select().count() == 1 and fake_api.calls_of("sendMessage") == []


@pytest.mark.parametrize("channel, telegram_targets", [("web", ["support_bot:5001"]), ("telegram", [])])
def test_ticket_created_in_telegram_is_not_echoed_back_to_telegram(bound, channel, telegram_targets):
    """The support bot confirms a ticket made in the chat itself; a web ticket is announced in Telegram."""
    from engine import tickets

    user = make_customer()
    link(user, 5001, binding="support_bot")
    set_preferences(user, {"ticket_created": {"telegram": True}})
    values = {"account_id": "12345", "subject": "Бот молчит", "message": "Не отвечает с утра"}
    ticket = tickets.create_ticket(bound, user, "account/other", values, [], channel)
    created = [d for d in Delivery.select() if d.notification.type_id == "ticket_created"]
    assert [d.target for d in created if d.channel == "telegram"] == telegram_targets
    assert ticket.channel == channel


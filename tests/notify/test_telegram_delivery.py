"""Telegram deliveries against the fake Bot API: rate limits, 429 retry_after, 403/400 fallback to email."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from engine.notify import enqueue_deliveries, notify, set_preferences
from channels.telegram.channel import telegram_buckets
from engine.senders import register_sender, sender_for
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


@pytest.fixture
def granted(bound):
    """Redis time at which each Telegram send got its per-chat token, read from the chat's bucket as the sender is
    called (one in-process worker: no other take comes in between). Arrival times at the fake Bot API would add the
    hop from the token to the request, which a loaded machine stretches and squeezes at will."""
    original = sender_for("telegram")
    times = []

    def timed(rt, outgoing):
        chat_bucket = telegram_buckets(rt.catalog.policies.telegram_rate, outgoing.binding_id, outgoing.address)[1]
        times.append(float(rt.redis.hget(chat_bucket.key, "at")))
        original(rt, outgoing)

    register_sender("telegram", timed)
    yield times
    register_sender("telegram", original)


def redis_now(rt) -> float:
    seconds, micros = rt.redis.time()
    return seconds + micros / 1e6


def test_200_notifications_to_one_chat_never_exceed_one_per_second(bound, customer, fake_api, granted):
    """A burst of 200 to one chat is paced by the per-chat bucket: never two messages within a second."""
    send_many(bound, customer, n=200)
    # Until a few have gone out, and then for half a second more: the count is checked against the time they took.
    work_until(bound, lambda: len(granted) >= 4 and redis_now(bound) - granted[-1] >= 0.5, pause=0.1)
    assert 3 <= len(granted) <= int(redis_now(bound) - granted[0]) + 1
    assert all(b - a >= 0.95 for a, b in zip(granted, granted[1:]))
    assert len(fake_api.calls_of("sendMessage")) == len(granted)
    rows = telegram_rows()
    assert sum(r.status == "sent" for r in rows) == len(granted)
    assert {r.attempts for r in rows if r.status == "pending"} == {0}  # waiting for a token is not an attempt


def test_a_paced_burst_is_delivered_completely(bound, config_dir, fake_api, granted):
    """With a faster per-chat rate, 60 messages all arrive, each once, paced by the bucket."""
    write_policies(config_dir, telegram_rate={"per_bot_per_second": 30, "per_chat_per_second": 10})
    assert bound.catalogs.reload()
    user = make_customer()
    link(user, 5003)
    send_many(bound, user, n=60)
    assert work_until(bound, lambda: len(fake_api.sent_to(5003)) >= 60, pause=0.05)
    assert len(fake_api.calls_of("sendMessage")) == 60
    times = granted
    assert len(times) == 60
    # A bucket of 10/s with a one-second burst: any 21 sends span over a second, and 60 take at least 5 s.
    assert all(b - a > 0.95 for a, b in zip(times, times[20:]))
    assert times[-1] - times[0] >= 4.5
    assert all(r.status == "sent" and r.attempts == 1 for r in telegram_rows())


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


"""Email notifications reach a real SMTP server: subject, text, HTML, escaping, retries and permanent failures."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.delivery import failed_deliveries, process
from engine.notify import enqueue_deliveries, notify, preferences, set_preferences, unread_count, user_notifications
from engine.store.models import Delivery
from tests.notify.conftest import make_customer, work, work_until

pytestmark = pytest.mark.postgres  # delivery state and idempotency rely on conditional UPDATEs: run on both databases

REPLY = {"ticket_number": 17, "subject": "Не приходят SMS", "reply": "Проверьте имя отправителя."}


def send(rt, user, type_id="support_reply", params=REPLY):
    with rt.db.atomic():
        notification = notify(rt.catalog, user, type_id, params)
    enqueue_deliveries(rt, [notification.id])
    return notification


def test_email_arrives_with_subject_text_and_html(bound, mailbox):
    """A support reply is sent as multipart text + HTML to the customer's address."""
    user = make_customer()
    send(bound, user)
    work(bound)
    [(rcpt, message)] = mailbox.wait(1)
    assert rcpt == ["anna@example.com"]
    assert message["Subject"] == "Ответ в запросе #17: Не приходят SMS"
    assert message["To"].addresses[0].addr_spec == "anna@example.com" and message["To"].addresses[0].display_name == "Анна"
    assert message["From"].addresses[0].display_name == "Служба поддержки"
    assert message["From"].addresses[0].addr_spec == "support@twin24.ai"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Проверьте имя отправителя." in text and "Проверьте имя отправителя." in html
    assert Delivery.get().status == "sent" and Delivery.get().sent_at is not None


def test_extra_notification_addresses_get_a_copy(bound, mailbox):
    """The account's extra notification emails receive their own delivery."""
    send(bound, make_customer(notify_emails=["boss@example.com"]))
    work(bound)
    assert sorted(rcpt[0] for rcpt, _ in mailbox.wait(2)) == ["anna@example.com", "boss@example.com"]


@pytest.mark.parametrize("payload", ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "<svg onload=alert(1)>"])
def test_html_payloads_are_escaped_in_email(bound, mailbox, payload):
    """Markup in params is text in the HTML part."""
    send(bound, make_customer(), params={**REPLY, "reply": payload})
    work(bound)
    [(_, message)] = mailbox.wait(1)
    html = message.get_body(("html",)).get_content()
    assert payload not in html
    assert payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") in html


def test_header_injection_in_subject_is_stripped(bound, mailbox):
    """CR/LF in a subject cannot add headers or recipients."""
    send(bound, make_customer(), params={**REPLY, "subject": "Hi\r\nBcc: evil@example.com\r\n\r\nbody"})
    work(bound)
    [(rcpt, message)] = mailbox.wait(1)
    assert rcpt == ["anna@example.com"]
    assert message["Bcc"] is None
    assert message["Subject"] == "Ответ в запросе #17: Hi Bcc: evil@example.com body"


def test_a_sent_delivery_is_never_sent_again(bound, mailbox):
    """Running the job again for a sent row sends nothing."""
    send(bound, make_customer())
    work(bound)
    row = Delivery.get()
    assert process(bound, row.id) == "skipped"
    assert len(mailbox.wait(1)) == 1
    assert Delivery.get().attempts == 1


def test_smtp_5xx_fails_for_good_and_is_listed_for_staff(bound, mailbox):
    """A permanent SMTP refusal is recorded once, with its error, in failed_deliveries()."""
    mailbox.refuse["bounce@example.com"] = "550 5.1.1 No such user"
    send(bound, make_customer(email="bounce@example.com"))
    work(bound)
    [failed] = failed_deliveries()
    assert failed.status == "failed" and failed.attempts == 1
    assert "550" in failed.last_error
    assert failed.notification.user.email == "bounce@example.com"


def test_smtp_4xx_is_retried_with_backoff(clock, bound, mailbox):
    """A temporary refusal is retried after the policy's backoff (1 s) and then delivered."""
    mailbox.refuse["later@example.com"] = "451 4.3.0 Try again later"
    mailbox.refuse_times["later@example.com"] = 1
    send(bound, make_customer(email="later@example.com"))
    work(bound)
    row = Delivery.get()
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    assert row.next_attempt_at >= clock.now() + timedelta(seconds=1)
    clock.advance(0.5)
    work(bound)
    assert Delivery.get().status == "pending" and mailbox.messages == []  # not before the backoff
    assert work_until(bound, lambda: Delivery.get().status == "sent", clock=clock)
    assert Delivery.get().attempts == 2


def test_a_delivery_keeps_its_times_on_the_runtime_clock(bound, mailbox):
    """Claim, backoff and sent_at all come from rt.clock: a retry is not due until that clock reaches it."""
    mailbox.refuse["later@example.com"] = "451 4.3.0 Try again later"
    mailbox.refuse_times["later@example.com"] = 1
    send(bound, make_customer(email="later@example.com"))
    moment = datetime(2031, 1, 1, tzinfo=timezone.utc)
    bound.clock = lambda: moment
    row_id = Delivery.get().id
    assert process(bound, row_id) == "retry"
    assert Delivery.get().next_attempt_at == moment + timedelta(seconds=1)
    moment += timedelta(seconds=0.9)
    assert process(bound, row_id) == "skipped"  # not due yet on this clock
    moment += timedelta(seconds=0.1)
    assert process(bound, row_id) == "sent"
    row = Delivery.get()
    assert row.sent_at == moment and row.attempts == 2 and len(mailbox.wait(1)) == 1


def test_smtp_down_gives_up_after_max_attempts(clock, bound, settings, mailbox):
    """An unreachable SMTP server is retried max_attempts times (3, 1 s apart), then shown as failed."""
    bound.settings.env["SMTP_URL"] = "smtp://127.0.0.1:9"
    send(bound, make_customer())
    work(bound)
    for attempt in (1, 2):
        row = Delivery.get()
        assert row.status == "pending" and row.attempts == attempt
        assert row.next_attempt_at >= clock.now() + timedelta(seconds=1)
        clock.advance(0.5)
        work(bound)
        assert Delivery.get().attempts == attempt  # not before the backoff
        clock.advance(1.5)  # past the retry, which RQ schedules to the whole second
        work(bound)
    row = Delivery.get()
    assert row.status == "failed" and row.attempts == 3 and "gave up after 3 attempts" in row.last_error


def test_customer_with_nothing_linked_still_gets_web_notifications(bound):
    """Email and Telegram switched off or absent: the in-app list still shows it."""
    user = make_customer()
    set_preferences(user, {"support_reply": {"email": False, "telegram": False}})
    notification = send(bound, user)
    assert Delivery.select().count() == 0
    assert user_notifications(user) == [notification] and unread_count(user) == 1


def test_preferences_default_to_the_type_and_store_explicit_choices(bound):
    """preferences() fills defaults from default_channels; set_preferences overrides one cell."""
    user = make_customer()
    assert preferences(bound.catalog, user)["low_balance"] == {"web": True, "email": True, "telegram": True}
    set_preferences(user, {"low_balance": {"email": False, "web": False}})
    set_preferences(user, {"low_balance": {"web": True}})
    assert preferences(bound.catalog, user)["low_balance"] == {"web": True, "email": False, "telegram": True}


def test_web_switched_off_hides_the_notification_from_the_list(bound):
    """A type whose web channel the customer turned off does not appear in-app."""
    user = make_customer()
    set_preferences(user, {"support_reply": {"web": False}})
    send(bound, user)
    assert user_notifications(user) == [] and unread_count(user) == 0


@pytest.mark.parametrize("name", ["Анна\r\nBcc: evil@example.com", "Anna\nCc: evil@example.com", 'Ann "<evil@example.com>"\r\n'])
def test_header_injection_in_the_customer_name_is_stripped(bound, mailbox, name):
    """A name with CR/LF lands in To as one display name; no header or recipient is added."""
    send(bound, make_customer(name=name))
    work(bound)
    [(rcpt, message)] = mailbox.wait(1)
    assert rcpt == ["anna@example.com"]
    assert message["Bcc"] is None and message["Cc"] is None
    assert message["To"].addresses[0].addr_spec == "anna@example.com"
    assert "\n" not in str(message["To"]) and "\r" not in str(message["To"])


def test_invalid_address_fails_for_good_without_smtp(bound, mailbox):
    """An address that cannot be a header is refused before any SMTP conversation."""
    send(bound, make_customer(email="not an address@@example.com"))
    work(bound)
    [failed] = failed_deliveries()
    assert "invalid email address" in failed.last_error and mailbox.messages == []


def test_deactivated_account_gets_nothing(bound, mailbox):
    """A notification written before the account was deactivated is not sent after it."""
    user = make_customer()
    send(bound, user)
    user.is_active = False
    user.save()
    work(bound)
    [failed] = failed_deliveries()
    assert failed.last_error == "the account is deactivated" and mailbox.messages == []


def test_staff_can_retry_a_failed_delivery(bound, mailbox):
    """retry_delivery gives a failed row fresh attempts; a row that is not failed cannot be retried."""
    from engine.delivery import retry_delivery
    from engine.errors import NotFound

    mailbox.refuse["bounce@example.com"] = "550 5.1.1 No such user"
    send(bound, make_customer(email="bounce@example.com"))
    work(bound)
    [failed] = failed_deliveries()
    del mailbox.refuse["bounce@example.com"]
    retry_delivery(bound, failed.id)
    work(bound)
    assert len(mailbox.wait(1)) == 1 and Delivery.get().status == "sent" and failed_deliveries() == []
    with pytest.raises(NotFound):
        retry_delivery(bound, failed.id)

"""A channel whose setting is missing (SMTP_URL, a bot token) is a configuration error: reported once, never retried."""
from __future__ import annotations

import logging

import pytest

from engine.channel_setup import REPORTED_ENV, report_unconfigured, unconfigured
from engine.delivery import failed_deliveries, process, retry_delivery
from engine.store.models import Delivery, TelegramLink
from engine.sweeper import sweep
from tests.notify.conftest import link, make_customer, work, work_until
from tests.notify.test_email import send

pytestmark = pytest.mark.postgres

EMAIL_REASON = "channel email is not configured: SMTP_URL is not set"


@pytest.fixture
def no_smtp(bound, monkeypatch):
    """The runtime without SMTP_URL (in settings and in the process environment)."""
    monkeypatch.delenv("SMTP_URL", raising=False)
    bound.settings.env.pop("SMTP_URL")
    return bound


def test_email_without_smtp_url_is_skipped_after_one_attempt(no_smtp, mailbox, caplog):
    """One attempt, status skipped with the reason, no retry job, nothing logged per attempt at INFO."""
    send(no_smtp, make_customer())
    with caplog.at_level(logging.INFO, logger="engine.delivery"):
        work(no_smtp)
    row = Delivery.get()
    assert (row.status, row.attempts, row.last_error) == ("skipped", 1, EMAIL_REASON)
    assert no_smtp.queue.count == 0 and no_smtp.queue.scheduled_job_registry.count == 0
    assert [r for r in caplog.records if r.name == "engine.delivery" and r.levelno >= logging.INFO] == []
    assert sweep(no_smtp).deliveries == 0  # the sweeper does not pick it up again
    assert process(no_smtp, row.id) == "skipped" and Delivery.get().attempts == 1
    assert mailbox.messages == []


def test_a_skipped_delivery_is_listed_and_retried_once_configured(no_smtp, mailbox):
    send(no_smtp, make_customer())
    work(no_smtp)
    [skipped] = failed_deliveries()
    assert skipped.status == "skipped" and skipped.last_error == EMAIL_REASON
    no_smtp.settings.env["SMTP_URL"] = mailbox.url  # the admin set the variable and restarted the worker
    retry_delivery(no_smtp, skipped.id)
    assert work_until(no_smtp, lambda: Delivery.get().status == "sent")
    assert len(mailbox.wait(1)) == 1


def test_telegram_binding_without_token_is_skipped_and_the_chat_stays_linked(bound, fake_api):
    """The same classification for every channel: a bot without its token skips, it does not blame the chat."""
    bound.settings.env.pop("NOTIFY_BOT_TOKEN")
    user = make_customer()
    link(user, 7001)
    send(bound, user, "low_balance", {"balance": 3.5, "currency": "RUB"})
    work(bound)
    row = Delivery.get(Delivery.channel == "telegram")
    assert (row.status, row.attempts) == ("skipped", 1)
    assert row.last_error == "channel notify_bot is not configured: NOTIFY_BOT_TOKEN is not set"
    assert TelegramLink.get().active and fake_api.calls_of("sendMessage") == []


def test_start_report_warns_once_per_unconfigured_binding(bound, caplog):
    env = {"SUPPORT_BOT_TOKEN": "1:x"}
    with caplog.at_level(logging.WARNING):
        found = report_unconfigured(bound.catalog, env)
    assert [(u.binding_id, u.env_var) for u in found] == [("notify_bot", "NOTIFY_BOT_TOKEN"), ("email", "SMTP_URL")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert warnings[0].startswith("channel notify_bot is not configured: NOTIFY_BOT_TOKEN is not set")
    assert warnings[1].startswith(EMAIL_REASON)
    caplog.clear()
    assert report_unconfigured(bound.catalog, {**env, REPORTED_ENV: "1"}) == found  # `run.py dev` said it already
    assert caplog.records == []
    assert unconfigured(bound.catalog, {**env, "NOTIFY_BOT_TOKEN": "2:y", "SMTP_URL": "smtp://h"}) == []


def test_a_worker_process_reports_each_unconfigured_channel_once(bound, workers, tmp_path):
    """`run.py worker --burst` without SMTP_URL: one WARNING naming the binding and variable, the row skipped."""
    send(bound, make_customer())
    workers.env.pop("SMTP_URL")
    workers.env.pop("NOTIFY_BOT_TOKEN")
    proc = workers.start("--burst")
    assert proc.wait(30) == 0
    log = (tmp_path / "worker-0.log").read_text()
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert len(warnings) == 2, log
    assert "channel notify_bot is not configured: NOTIFY_BOT_TOKEN is not set" in warnings[0]
    assert EMAIL_REASON in warnings[1]
    assert "retry" not in log
    row = Delivery.get()
    assert (row.status, row.attempts, row.last_error) == ("skipped", 1, EMAIL_REASON)

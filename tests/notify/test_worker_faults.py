"""Worker faults: SIGKILL mid-delivery, the same job on two workers, a flushed Redis."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from rq import Worker
from rq.job import JobStatus

from engine.delivery import process
from engine.enqueue import CLAIM_GRACE
from engine.notify import enqueue_deliveries, notify, set_preferences
from engine.senders import register_sender, sender_for
from engine.store.models import Delivery
from engine.sweeper import sweep
from tests.notify.conftest import FAST_POLICIES, link, make_customer, work, write_policies
from tests.waiting import HANG_CAP, wait_for

pytestmark = pytest.mark.postgres  # delivery state and idempotency rely on conditional UPDATEs: run on both databases

REPLY = {"ticket_number": 7, "subject": "Звонки", "reply": "Готово."}
HANGING = ("--load", "tests.notify.hanging_sender", "--sweep-every", "0.5")


def send(rt, user):
    with rt.db.atomic():
        notification = notify(rt.catalog, user, "support_reply", REPLY)
    enqueue_deliveries(rt, [notification.id])


def test_worker_killed_mid_delivery_is_retried_and_sent_once(bound, short_lease, mailbox, workers, tmp_path):
    """SIGKILL while sending: the lease expires, another worker sends it, and only once."""
    (tmp_path / "hold").touch()
    send(bound, make_customer())
    first = workers.start(*HANGING, HOLD_DIR=str(tmp_path))
    wait_for(lambda: list(tmp_path.glob("started-*")))
    workers.kill(first)
    row = Delivery.get()
    assert row.status == "sending" and row.attempts == 1 and mailbox.messages == []
    (tmp_path / "hold").unlink()
    workers.start(*HANGING, HOLD_DIR=str(tmp_path))
    mailbox.wait(1)
    time.sleep(1.5)  # a second sweep and lease period: still one message
    assert len(mailbox.messages) == 1
    row = Delivery.get()
    assert row.status == "sent" and row.attempts == 2


def test_the_same_delivery_on_two_workers_is_sent_once(bound):
    """Two workers running the same job at the same moment: one sends, the other finds it claimed."""
    calls = []
    original = sender_for("email")

    def slow_sender(rt, outgoing):
        calls.append(outgoing.delivery_id)
        time.sleep(0.3)

    register_sender("email", slow_sender)
    try:
        send(bound, make_customer())
        row_id = Delivery.get().id
        results = []
        barrier = threading.Barrier(2)

        def run():
            barrier.wait()
            results.append(process(bound, row_id))
            bound.db.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    finally:
        register_sender("email", original)
    assert sorted(results) == ["sent", "skipped"] and calls == [row_id]


def test_flushed_redis_is_restored_by_the_sweep(bound, mailbox):
    """Jobs lost with a FLUSHALL are enqueued again from the outbox by the sweep."""
    send(bound, make_customer())
    bound.redis.flushall()
    work(bound)
    assert mailbox.messages == [] and Delivery.get().status == "pending"
    report = sweep(bound)
    assert report.deliveries == 1
    assert sweep(bound).deliveries == 0  # already queued: not twice
    work(bound)
    assert len(mailbox.wait(1)) == 1 and Delivery.get().status == "sent"


def test_worker_killed_while_telegram_hangs_delivers_exactly_once(bound, config_dir, fake_api, workers):
    """SIGKILL while the Bot API call hangs: after the lease another worker sends it, one message in the chat."""
    # A 2-second lease, so the killed attempt is retried soon, and attempts to spare: on a loaded machine that lease
    # can also lapse during a later worker's send (seen under stress-ng: 3 attempts, one message; and, six times
    # oversubscribed, a third lapse that spent max_attempts 3 before anything was sent).
    write_policies(config_dir, delivery={**FAST_POLICIES["delivery"], "lease": "2s", "max_attempts": 10})
    assert bound.catalogs.reload()
    user = make_customer()
    link(user, 6001)
    set_preferences(user, {"support_reply": {"email": False}})
    fake_api.fail("sendMessage", "timeout", delay=30, times=1)
    send(bound, user)
    first = workers.start("--sweep-every", "0.5")
    wait_for(lambda: fake_api.calls_of("sendMessage"))
    workers.kill(first)
    workers.start("--sweep-every", "0.5")
    wait_for(lambda: fake_api.sent_to(6001) or Delivery.get().status == "failed")
    time.sleep(1.5)
    row = Delivery.get()
    assert len(fake_api.sent_to(6001)) == 1, f"{row.status} after {row.attempts} attempts: {row.last_error}"
    assert row.status == "sent" and row.attempts >= 2  # at least the killed attempt and the one that sent


def test_rate_limits_hold_across_two_worker_processes(bound, config_dir, fake_api, workers):
    """Two workers share the Redis buckets: the bot stays under its rate and every chat under 1/s; all arrive once."""
    write_policies(config_dir, telegram_rate={"per_bot_per_second": 15, "per_chat_per_second": 1})
    assert bound.catalogs.reload()
    chats = list(range(7001, 7021))
    with bound.db.atomic():
        ids = []
        for chat in chats:
            user = make_customer(email=f"c{chat}@example.com")
            link(user, chat)
            set_preferences(user, {"low_balance": {"email": False}})
            ids += [notify(bound.catalog, user, "low_balance", {"balance": n, "currency": "RUB"}).id for n in range(3)]
    enqueue_deliveries(bound, ids)
    for _ in range(2):
        workers.start("--sweep-every", "1")
    wait_for(lambda: len(fake_api.calls_of("sendMessage")) >= 60)
    time.sleep(1)
    calls = fake_api.calls_of("sendMessage")
    assert len(calls) == 60 and all(len(fake_api.sent_to(chat)) == 3 for chat in chats)
    times = sorted(c.at for c in calls)
    assert len(times) <= 15 + 15 * (times[-1] - times[0]) + 1  # burst of one second's worth, then 15/s
    for chat in chats:
        at = sorted(c.at for c in calls if int(c.params["chat_id"]) == chat)
        assert all(b - a >= 0.95 for a, b in zip(at, at[1:]))
    assert {d.status for d in Delivery.select()} == {"sent"}


def test_a_bounded_sweep_walks_the_outbox_in_slices(bound):
    """With a limit, consecutive sweeps continue where the last one stopped and wrap around at the end."""
    for n in range(5):
        send(bound, make_customer(email=f"c{n}@example.com"))
    bound.redis.flushall()
    ids = [d.id for d in Delivery.select().order_by(Delivery.id)]
    first = sweep(bound, limit=2)
    second = sweep(bound, start_after=first.resume_after, limit=2)
    third = sweep(bound, start_after=second.resume_after, limit=2)
    assert [first.deliveries, second.deliveries, third.deliveries] == [2, 2, 1]
    assert [first.resume_after, second.resume_after, third.resume_after] == [ids[1], ids[3], 0]


def test_a_burst_worker_sweeps_then_drains(bound, mailbox, workers):
    """`run.py worker --burst` (cron style) delivers rows whose jobs Redis lost, then exits."""
    send(bound, make_customer())
    bound.redis.flushall()
    proc = workers.start("--burst")
    assert proc.wait(HANG_CAP) == 0
    assert len(mailbox.wait(1)) == 1 and Delivery.get().status == "sent"


def test_sigterm_stops_an_idle_worker_promptly(bound, workers):
    """A warm shutdown request ends the worker (it is not mistaken for a crash and restarted)."""
    proc = workers.start("--sweep-every", "0.5")
    wait_for(lambda: Worker.count(queue=bound.queue) == 1)
    proc.terminate()
    assert proc.wait(10) == 0


def test_a_job_left_scheduled_without_a_scheduler_is_enqueued_by_the_sweep(bound):
    """A retry whose delayed job nobody moved (its scheduler died) is queued directly once overdue."""
    from datetime import datetime, timedelta, timezone

    from engine.enqueue import enqueue_delivery_rows

    send(bound, make_customer())
    bound.redis.flushall()
    overdue = datetime.now(timezone.utc) - timedelta(seconds=30)
    Delivery.update(next_attempt_at=overdue).execute()
    enqueue_delivery_rows(bound, [Delivery.get()], now=overdue - timedelta(seconds=1))  # scheduled for "later"
    assert len(bound.queue.scheduled_job_registry) == 1 and len(bound.queue) == 0
    assert sweep(bound).deliveries == 1
    assert len(bound.queue) == 1


def test_a_row_whose_worker_died_in_its_last_attempt_fails_without_another(bound, mailbox):
    """The lease of the last allowed attempt (max_attempts 3) ran out: reclaimed, it fails instead of a 4th attempt."""
    send(bound, make_customer())
    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    Delivery.update(status="sending", attempts=3, claimed_until=past, next_attempt_at=past, last_error=None).execute()
    row_id = Delivery.get().id
    assert process(bound, row_id) == "failed"
    row = Delivery.get_by_id(row_id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "gave up after 3 attempts: the worker stopped while sending")
    assert mailbox.messages == [] and process(bound, row_id) == "skipped"


def test_an_unexpected_sender_error_is_a_counted_retry_without_secrets(bound):
    """An exception no sender should raise is recorded (redacted) and retried; the row never stays `sending`."""
    original = sender_for("email")

    def broken_sender(rt, outgoing):
        raise RuntimeError("POST https://api.telegram.org/bot123:SECRET-part/sendMessage failed")

    register_sender("email", broken_sender)
    try:
        send(bound, make_customer())
        row_id = Delivery.get().id
        assert process(bound, row_id) == "retry"
    finally:
        register_sender("email", original)
    row = Delivery.get_by_id(row_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "RuntimeError: POST https://api.telegram.org/bot123:[REDACTED]/sendMessage failed"


def test_a_job_whose_worker_died_before_claiming_is_enqueued_again(bound, mailbox):
    """SIGKILL between RQ dequeuing a job and the claim: the job stays `started` in Redis and the row `pending`;
    past the claim grace the sweep enqueues the row again instead of waiting for RQ's job timeout."""
    send(bound, make_customer())
    [job] = bound.queue.get_jobs()
    bound.queue.remove(job)  # dequeued by a worker that then died
    job.set_status(JobStatus.STARTED)
    job.started_at = datetime.now(timezone.utc) - timedelta(seconds=5)
    job.save()
    assert sweep(bound).deliveries == 0  # just started: its worker may be claiming the row right now
    job.started_at = datetime.now(timezone.utc) - CLAIM_GRACE - timedelta(seconds=1)
    job.save()
    assert sweep(bound).deliveries == 1
    work(bound)
    assert len(mailbox.wait(1)) == 1 and Delivery.get().status == "sent"

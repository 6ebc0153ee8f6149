"""Worker faults: SIGKILL mid-delivery, the same job on two workers, a flushed Redis."""
from __future__ import annotations

import signal
import threading
import time

import pytest

from engine.delivery import process
from engine.notify import enqueue_deliveries, notify
from engine.senders import register_sender, sender_for
from engine.store.models import Delivery
from engine.sweeper import sweep
from tests.notify.conftest import make_customer, work

pytestmark = pytest.mark.postgres  # delivery state and idempotency rely on conditional UPDATEs: run on both databases

REPLY = {"ticket_number": 7, "subject": "Звонки", "reply": "Готово."}
HANGING = ("--simple", "--load", "tests.notify.hanging_sender", "--sweep-every", "0.5")


def send(rt, user):
    with rt.db.atomic():
        notification = notify(rt.catalog, user, "support_reply", REPLY)
    enqueue_deliveries(rt, [notification.id])


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


def test_worker_killed_mid_delivery_is_retried_and_sent_once(bound, mailbox, workers, tmp_path):
    """SIGKILL while sending: the lease expires, another worker sends it, and only once."""
    (tmp_path / "hold").touch()
    send(bound, make_customer())
    first = workers.start(*HANGING, HOLD_DIR=str(tmp_path))
    wait_for(lambda: list(tmp_path.glob("started-*")))
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    row = Delivery.get()
    assert row.status == "sending" and row.attempts == 1 and mailbox.messages == []
    (tmp_path / "hold").unlink()
    workers.start(*HANGING, HOLD_DIR=str(tmp_path))
    mailbox.wait(1, timeout=20)
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

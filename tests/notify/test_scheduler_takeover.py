"""A SIGKILLed worker's RQ scheduler child dies with it, and another live worker takes the scheduler lock and
runs the scheduled jobs (here a delivery due a few seconds later) well within 30 s."""
from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import psutil
from rq import Worker

from engine.enqueue import enqueue_delivery_rows
from engine.notify import notify
from engine.store.models import Delivery
from tests.notify.conftest import make_customer
from tests.waiting import wait_for

RECOVERY = 30.0  # seconds: the promise for deliveries resuming after a fault
NO_SWEEP = ("--sweep-every", "3600")  # only the scheduler may move the delayed job


def scheduler_of(proc) -> psutil.Process | None:
    """The worker's forked RQ scheduler, when it runs one (the worker holding the scheduler lock)."""
    try:
        children = psutil.Process(proc.pid).children()
    except psutil.NoSuchProcess:
        return None
    return children[0] if children else None


def test_a_killed_workers_scheduler_dies_with_it_and_another_worker_schedules(bound, mailbox, workers):
    procs = [workers.start(*NO_SWEEP), workers.start(*NO_SWEEP)]
    wait_for(lambda: Worker.count(connection=bound.redis) == 2, message="two registered workers")
    holder = wait_for(lambda: next((p for p in procs if scheduler_of(p)), None), message="a scheduler child")
    survivor = next(p for p in procs if p is not holder)
    orphan = scheduler_of(holder)
    os.kill(holder.pid, signal.SIGKILL)  # the worker alone, as the OOM killer would
    holder.wait(10)
    killed_at = time.monotonic()
    wait_for(lambda: not orphan.is_running() or orphan.status() == psutil.STATUS_ZOMBIE, timeout=10,
             message="the dead worker's scheduler to exit")

    with bound.db.atomic():
        notification = notify(bound.catalog, make_customer(), "support_reply",
                              {"ticket_number": 7, "subject": "Звонки", "reply": "Готово."})
    row = Delivery.get(Delivery.notification == notification)
    Delivery.update(next_attempt_at=bound.clock() + timedelta(seconds=2)).where(Delivery.id == row.id).execute()
    assert enqueue_delivery_rows(bound, [Delivery.get_by_id(row.id)]) == 1  # a delayed job: the scheduler's
    mailbox.wait(1, timeout=RECOVERY)
    assert time.monotonic() - killed_at < RECOVERY
    assert scheduler_of(survivor) is not None and survivor.poll() is None

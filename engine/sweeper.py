"""The periodic sweep over the database: what Redis lost (or never got) is enqueued or done again."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from redis.exceptions import RedisError

from engine.catalog.durations import parse_duration
from engine.delivery import claimable
from engine.jobs import enqueue_delivery_rows
from engine.sessions import delete_expired
from engine.store.models import Delivery
from engine.timer_kinds import KINDS

log = logging.getLogger(__name__)

BATCH = 1000
SLICE = 5000  # outbox rows one periodic sweep looks at; a backlog is walked a slice per interval
LOCK_KEY = "helpdesk:sweep-lock"


@dataclass
class SweepReport:
    deliveries: int = 0
    timers: Counter = field(default_factory=Counter)  # timer kind -> due timers fired that acted (closed, reminded)
    sessions: int = 0  # expired web sessions deleted
    resume_after: int = 0  # the delivery id a bounded sweep stopped at (0: it reached the end)


def sweep(rt, now: datetime | None = None, start_after: int = 0, limit: int | None = None) -> SweepReport:
    """Re-enqueue due deliveries (pending, or leased by a dead worker); fire due timers (auto-close, reminders: what
    their exact-time RQ jobs did not); delete expired web sessions.

    `limit` bounds how many outbox rows one sweep looks at, from `start_after` on: with a large backlog the
    worker's periodic sweep walks the outbox a slice per interval instead of rereading all of it each time.
    """
    now = now or rt.clock()
    report = SweepReport()
    last_id, seen = start_after, 0
    while limit is None or seen < limit:
        query = Delivery.select(Delivery.id, Delivery.attempts, Delivery.next_attempt_at).where(
            claimable(now) & (Delivery.id > last_id)
        )
        size = BATCH if limit is None else min(BATCH, limit - seen)
        rows = list(query.order_by(Delivery.id).limit(size).namedtuples())
        report.deliveries += enqueue_delivery_rows(rt, rows, now=now)
        seen += len(rows)
        if len(rows) < size:
            last_id = 0
            break
        last_id = rows[-1].id
    report.resume_after = last_id
    report.timers = KINDS.fire_due(rt, now)
    report.sessions = delete_expired(rt.catalog.policies.sessions, now)
    return report


def _take_turn(rt, seconds: float) -> bool:
    """One sweep per interval across all workers (a Redis lock); with Redis down, sweep anyway: it is idempotent."""
    try:
        return bool(rt.redis.set(LOCK_KEY, "1", nx=True, px=max(1, int(seconds * 1000 * 0.9))))
    except RedisError:
        return True


STARTUP_DELAY = 1.0  # seconds before the first sweep
STOP_WAIT = 2.0  # seconds a stop waits for a sweep in progress


class SweeperThread(threading.Thread):
    """Runs `sweep` every policies.delivery.sweep_every seconds until stopped; errors are logged, never fatal."""

    def __init__(self, rt, interval: float | None = None):
        super().__init__(name="helpdesk-sweeper", daemon=True)
        self.rt = rt
        self.interval = interval
        self.cursor = 0
        self.stopped = threading.Event()

    def current_interval(self) -> float:
        if self.interval is not None:
            return self.interval
        return parse_duration(self.rt.catalog.policies.delivery.sweep_every).total_seconds()

    def run(self) -> None:
        # Let RQ fork its scheduler process first: a fork while this thread holds a lock (logging, peewee,
        # SQLite) can leave the child deadlocked, and the worker then hangs joining it at shutdown.
        if self.stopped.wait(STARTUP_DELAY):
            return
        while not self.stopped.is_set():
            interval = self.current_interval()
            try:
                if _take_turn(self.rt, interval):
                    report = sweep(self.rt, start_after=self.cursor, limit=SLICE)
                    self.cursor = report.resume_after
                    if report.deliveries or report.timers or report.sessions:
                        log.info("sweep: %s", report)
            except Exception:  # the next sweep tries again; a crashed thread would silently stop all recovery
                log.exception("sweep failed")
            finally:
                self.rt.db.close()
            self.stopped.wait(interval)

    def stop(self, timeout: float = STOP_WAIT) -> None:
        """Ask the thread to stop and wait for a sweep in progress (it would reconnect to Redis after the
        process closed its connections, and keep an embedded server it should stop alive)."""
        self.stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

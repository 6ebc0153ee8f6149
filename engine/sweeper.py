"""The sweep over the database: what Redis lost (or never got) is enqueued or done again (app.sweeper runs it)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from engine.delivery import claimable
from engine.enqueue import enqueue_delivery_rows
from engine.sessions import delete_expired
from engine.store.models import Delivery
from engine.timer_kinds import KINDS

BATCH = 1000


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

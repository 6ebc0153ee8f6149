"""What one `/metrics` scrape costs with a large database: the scrape-time collector against a naive count.

A temporary SQLite database gets N tickets and 4N outbox rows (most `sent`, a backlog `pending`, some `failed`
and `skipped`), written in bulk; an embedded Redis holds the queue and counters. The collector
(`engine.metrics.HelpdeskCollector`: capped counts through the status index, the oldest undelivered row by index
order, Redis reads in one pipeline) is timed against the baseline of the same run: one uncapped
`SELECT status, channel, COUNT(*) FROM delivery GROUP BY status, channel`, which a naive exporter would run.

    python benchmarks/bench_metrics.py [--tickets 50000]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from peewee import SQL, fn  # noqa: E402

from engine.metrics import HelpdeskCollector  # noqa: E402
from engine.redis_conn import stop_embedded_redis  # noqa: E402
from engine.runtime import start_runtime  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.store.migrations import upgrade  # noqa: E402
from engine.store.models import Delivery, Notification, Ticket, User  # noqa: E402

BATCH = 5000


def fill(rt, tickets: int) -> None:
    """`tickets` tickets, one notification each, four outbox rows per notification."""
    now = datetime.now(timezone.utc)
    customer = User.create(email="bench@example.com", name="Bench", role="customer")
    with rt.db.atomic():
        for start in range(0, tickets, BATCH):
            numbers = range(start, min(start + BATCH, tickets))
            Ticket.insert_many([{
                "number": 1001 + n, "customer": customer.id, "category_id": "chats", "topic_id": "incident",
                "priority": "normal", "status": ("new", "waiting_support", "waiting_customer", "archived")[n % 4],
                "subject": "bench", "fields": {}, "snapshot": {}, "channel": ("web", "telegram")[n % 2],
                "created_at": now, "updated_at": now} for n in numbers]).execute()
            Notification.insert_many([{"user": customer.id, "type_id": "support_reply", "params": {},
                                       "created_at": now} for _ in numbers]).execute()
        note_ids = [row.id for row in Notification.select(Notification.id).order_by(Notification.id)]
        rows = []
        for i, note_id in enumerate(note_ids):
            for k, channel in enumerate(("email", "telegram", "email", "telegram")):
                n = i * 4 + k
                # 85% sent, 10% pending (the backlog), 3% failed, 2% skipped
                status = "sent" if n % 100 < 85 else "pending" if n % 100 < 95 else "failed" if n % 100 < 98 else "skipped"
                rows.append({"notification": note_id, "channel": channel, "target": f"t{n}", "status": status,
                             "created_at": now - timedelta(seconds=tickets * 4 - n), "next_attempt_at": now})
                if len(rows) == BATCH:
                    Delivery.insert_many(rows).execute()
                    rows = []
        if rows:
            Delivery.insert_many(rows).execute()


def best_of(runs: int, action) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=50_000)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    try:
        rt = start_runtime(Settings(config_dir=ROOT / "config", data_dir=data, secret_key="bench", env={}))
        upgrade(rt.db)
        started = time.perf_counter()
        fill(rt, args.tickets)
        print(f"{args.tickets} tickets, {Delivery.select().count()} outbox rows written in {time.perf_counter() - started:.1f} s")
        collector = HelpdeskCollector(rt)
        naive = best_of(7, lambda: list(Delivery.select(Delivery.status, Delivery.channel, fn.COUNT(SQL("*")))
                                         .group_by(Delivery.status, Delivery.channel).tuples()))
        scrape = best_of(7, lambda: list(collector.collect()))
        capped = HelpdeskCollector(rt, cap=10_000)
        scrape_capped = best_of(7, lambda: list(capped.collect()))
        print(f"baseline: uncapped GROUP BY status, channel over the outbox: {naive * 1000:.1f} ms")
        print(f"collector (cap {collector.cap}): {scrape * 1000:.1f} ms ({scrape / naive:.2f}x baseline)")
        print(f"collector (cap 10000): {scrape_capped * 1000:.1f} ms ({scrape_capped / naive:.2f}x baseline)")
        rt.db.close()
        stop_embedded_redis(rt.redis)
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()

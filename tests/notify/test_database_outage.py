"""PostgreSQL drops every connection (a restart or failover as clients see it): the next statement of the
web, a job or the sweeper reconnects instead of failing until someone restarts the process."""
from __future__ import annotations

import os

import psycopg2
import pytest

from engine.notify import enqueue_deliveries, notify
from engine.store.models import Delivery, User
from tests.notify.conftest import make_customer
from tests.waiting import HANG_CAP, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="drops PostgreSQL server connections"),
]

REPLY = {"ticket_number": 7, "subject": "Звонки", "reply": "Готово."}


def drop_every_other_connection() -> int:
    """What a server restart does to its clients: end every other session on the test database."""
    with psycopg2.connect(os.environ["TEST_DATABASE_URL"]) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def send(rt, user):
    with rt.db.atomic():
        notification = notify(rt.catalog, user, "support_reply", REPLY)
    enqueue_deliveries(rt, [notification.id])


def test_the_next_query_after_a_dropped_connection_reconnects(rt):
    make_customer()
    assert drop_every_other_connection() >= 1
    assert User.select().count() == 1


def test_a_worker_keeps_delivering_after_the_database_dropped_its_connections(bound, mailbox, workers):
    user = make_customer()
    workers.start("--sweep-every", "0.5")
    send(bound, user)
    mailbox.wait(1, timeout=HANG_CAP)
    assert drop_every_other_connection() >= 1  # the worker's job and sweeper connections among them
    send(bound, user)
    mailbox.wait(2, timeout=HANG_CAP)
    wait_for(lambda: Delivery.select().where(Delivery.status == "sent").count() == 2)

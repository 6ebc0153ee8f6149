"""SMTP connections are kept per worker thread: many emails on one connection, a dropped one replaced, a refused
recipient does not cost the connection, and every message still arrives once."""
from __future__ import annotations

import select
import socket

import pytest

from channels.email import connections
from channels.email.connections import CONNECTIONS
from engine.notify import enqueue_deliveries, notify
from engine.store.models import Delivery
from tests.notify.conftest import Mailbox, _Port0Controller, make_customer, work
from tests.waiting import wait_for

pytestmark = pytest.mark.postgres

REPLY = {"ticket_number": 17, "subject": "Не приходят SMS", "reply": "Проверьте имя отправителя."}


@pytest.fixture(autouse=True)
def no_kept_connections():
    CONNECTIONS.close_all()
    yield
    CONNECTIONS.close_all()


def send_to(rt, emails):
    with rt.db.atomic():
        ids = [notify(rt.catalog, make_customer(email=email), "support_reply", REPLY).id for email in emails]
    enqueue_deliveries(rt, ids)


def hung_up(url: str) -> bool:
    """The server closed this thread's kept connection to `url` (its 421 and EOF are waiting to be read)."""
    sock = CONNECTIONS._kept()[url].client.sock
    if not select.select([sock], [], [], 0)[0]:
        return False
    try:
        data = sock.recv(4096, socket.MSG_PEEK)
    except OSError:
        return True
    return data == b"" or data.startswith(b"421")


def test_a_worker_sends_many_emails_over_one_connection(bound, mailbox):
    send_to(bound, [f"c{n}@example.com" for n in range(5)])
    work(bound)
    mailbox.wait(5)
    assert len(set(mailbox.peers)) == 1 and {d.status for d in Delivery.select()} == {"sent"}


def test_a_connection_the_server_dropped_is_replaced(bound, settings, monkeypatch):
    """The server closes idle sessions after 0.3 s: the next message finds out by NOOP and connects again."""
    monkeypatch.setattr(connections, "CHECK_AFTER", 0.1)
    box = Mailbox()
    controller = _Port0Controller(box, hostname="127.0.0.1", port=0, timeout=0.3)
    controller.start()
    try:
        bound.settings.env["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
        send_to(bound, ["first@example.com"])
        work(bound)
        box.wait(1)
        wait_for(lambda: hung_up(bound.settings.env["SMTP_URL"]), message="the server to drop the idle session")
        send_to(bound, ["second@example.com"])
        work(bound)
        box.wait(2)
    finally:
        controller.stop()
    assert len(set(box.peers)) == 2
    assert [d.attempts for d in Delivery.select()] == [1, 1]  # no failed attempt on the dead connection


def test_a_refused_recipient_keeps_the_connection(bound, mailbox):
    mailbox.refuse["bad@example.com"] = "550 no such user"
    send_to(bound, ["bad@example.com"])
    work(bound)
    wait_for(lambda: Delivery.get().status == "failed")
    send_to(bound, ["good@example.com"])
    work(bound)
    mailbox.wait(1)
    assert CONNECTIONS.opened >= 1 and len(set(mailbox.peers)) == 1
    before = CONNECTIONS.opened
    send_to(bound, ["again@example.com"])
    work(bound)
    mailbox.wait(2)
    assert CONNECTIONS.opened == before

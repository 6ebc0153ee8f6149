"""The request id of the request that enqueued a job rides in the job's meta, and the worker runs the job (its log
lines, the jobs it enqueues) under it."""
from __future__ import annotations

import logging

import pytest
from rq import SimpleWorker

from app.worker import listening_class
from engine.logformat import install_context, request_id
from engine.notify import enqueue_deliveries, notify
from engine.senders import register_sender, sender_for
from engine.stop_signals import PendingStop
from tests.notify.conftest import make_customer

REPLY = {"ticket_number": 7, "subject": "Звонки", "reply": "Готово."}


class TracedBurstWorker(listening_class(SimpleWorker, PendingStop())):
    def subscribe(self):  # a burst run in the test process takes no `rq` commands (see conftest.BurstWorker)
        pass


@pytest.fixture
def log_context():
    """The record factory `run.py` installs (role and request id on every record), restored afterwards."""
    factory = logging.getLogRecordFactory()
    install_context("worker")
    yield
    logging.setLogRecordFactory(factory)


def test_a_job_runs_under_the_request_id_that_enqueued_it(bound, caplog, log_context):
    seen = []
    original = sender_for("email")
    log = logging.getLogger("tests.sender")

    def traced_sender(rt, outgoing):
        seen.append(request_id.get())
        log.warning("sending delivery %s", outgoing.delivery_id)

    with bound.db.atomic():
        notification = notify(bound.catalog, make_customer(), "support_reply", REPLY)
    token = request_id.set("req-42")
    try:
        enqueue_deliveries(bound, [notification.id])
    finally:
        request_id.reset(token)
    [job] = bound.queue.get_jobs()
    assert job.meta["request_id"] == "req-42"
    register_sender("email", traced_sender)
    try:
        TracedBurstWorker([bound.queue], connection=bound.redis).work(burst=True, logging_level="ERROR")
    finally:
        register_sender("email", original)
    assert seen == ["req-42"] and request_id.get() is None  # reset after the job
    [record] = [r for r in caplog.records if r.name == "tests.sender"]
    assert record.request_id == "req-42"


def test_a_job_enqueued_outside_a_request_has_no_meta(bound):
    with bound.db.atomic():
        notification = notify(bound.catalog, make_customer(), "support_reply", REPLY)
    enqueue_deliveries(bound, [notification.id])
    assert "request_id" not in bound.queue.get_jobs()[0].meta

"""Timers as data: one table of ticket deadlines fired once through a registry of kinds, by job or by sweep."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from peewee import IntegrityError

from engine import enqueue, jobs, sla, tickets, timers
from engine.store.models import Notification, Ticket, TicketEvent, Timer
from engine.sweeper import sweep
from engine.tickets import AUTO_CLOSE, REMIND
from engine.timer_kinds import KINDS, fire_timer
from engine.timers import FAILED, FIRED, MAX_ATTEMPTS, PENDING, Fired, TimerKind, TimerKinds

pytestmark = pytest.mark.postgres

SITE = {"subject": "Сайт не открывается", "message": "С утра 502", "account_id": "12345"}


@pytest.fixture
def waiting(rt, customer, agent):
    """A ticket the agent answered: its reminder (1 day) and auto-close (2 days) timers are pending."""
    ticket = tickets.create_ticket(rt, customer, "hosting/site-down", SITE, [], "web")
    tickets.add_reply(rt, ticket, agent, "Проверьте DNS", [], "web")
    return ticket


def states(ticket) -> dict[str, list[str]]:
    """kind -> the states of the ticket's timers of that kind, oldest first."""
    found: dict[str, list[str]] = {}
    for timer in Timer.select().where(Timer.ticket == ticket).order_by(Timer.id):
        found.setdefault(timer.kind, []).append(timer.state)
    return found


def notified(ticket, type_id: str) -> int:
    return Notification.select().where((Notification.ticket == ticket) & (Notification.type_id == type_id)).count()


def test_every_kind_the_engine_schedules_is_registered():
    assert KINDS.names() == sorted([AUTO_CLOSE, REMIND, *sla.KINDS.values()])
    with pytest.raises(ValueError):
        KINDS.register(TimerKind(REMIND, lambda rt, timer, now: Fired()))


def test_staff_reply_schedules_both_and_enqueues_exact_time_jobs(rt, waiting):
    close, remind = timers.pending(waiting, AUTO_CLOSE), timers.pending(waiting, REMIND)
    assert close.due_at - remind.due_at == timedelta(days=1) and remind.payload == {"auto_close_at": close.due_at.isoformat()}
    scheduled = rt.queue.scheduled_job_registry
    assert sorted(scheduled.get_job_ids()) == sorted([f"autoclose-{close.id}", f"remind-{remind.id}"])
    assert rt.queue.fetch_job(f"autoclose-{close.id}").func_name == enqueue.FIRE_TIMER == "engine.timer_kinds.fire_timer"


def test_a_second_staff_reply_replaces_the_pending_timers(rt, waiting, agent):
    first = timers.pending(waiting, AUTO_CLOSE)
    rt.clock = lambda: first.created_at + timedelta(hours=1)
    tickets.add_reply(rt, waiting, agent, "И еще: очистите кэш", [], "web")
    assert states(waiting) == {AUTO_CLOSE: ["cancelled", PENDING], REMIND: ["cancelled", PENDING]}
    assert timers.pending(waiting, AUTO_CLOSE).due_at == first.due_at + timedelta(hours=1)


def test_one_pending_timer_per_kind_and_ticket(rt, waiting):
    """The partial unique index backs `schedule`'s replace-then-insert against a writer that skipped it."""
    with pytest.raises(IntegrityError), rt.db.atomic():
        Timer.create(kind=AUTO_CLOSE, ticket=waiting, due_at=timers.pending(waiting, AUTO_CLOSE).due_at)
    Timer.create(kind=AUTO_CLOSE, ticket=waiting, due_at=timers.pending(waiting, AUTO_CLOSE).due_at, state=FIRED)


@pytest.mark.parametrize("who", ["customer", "agent_archives", "customer_archives"])
def test_reply_or_archive_cancels_the_timers(rt, waiting, customer, agent, who):
    if who == "customer":
        tickets.add_reply(rt, waiting, customer, "Проверил", [], "web")
    else:
        tickets.archive_ticket(rt, waiting, agent if who == "agent_archives" else customer, "")
    assert states(waiting) == {AUTO_CLOSE: ["cancelled"], REMIND: ["cancelled"]}
    report = sweep(rt, now=rt.clock() + timedelta(days=3))
    assert not report.timers and notified(waiting, "auto_close_reminder") == notified(waiting, "ticket_auto_closed") == 0


def test_firing_twice_acts_once(rt, waiting):
    """The RQ job and the sweep may both get the same timer: the claim makes the second a no-op."""
    close = timers.pending(waiting, AUTO_CLOSE)
    assert KINDS.fire(rt, close.id, now=close.due_at)
    assert not KINDS.fire(rt, close.id, now=close.due_at)
    assert not KINDS.fire_due(rt, now=close.due_at + timedelta(minutes=1))
    assert notified(waiting, "ticket_auto_closed") == 1
    assert TicketEvent.select().where((TicketEvent.ticket == waiting) & (TicketEvent.reason == "auto_close")).count() == 1
    assert states(waiting) == {AUTO_CLOSE: [FIRED], REMIND: ["cancelled"]}  # the close cancelled the reminder


def test_the_job_fires_its_timer_and_not_before(rt, waiting):
    jobs.bind_runtime(rt)
    try:
        remind = timers.pending(waiting, REMIND)
        rt.clock = lambda: remind.due_at - timedelta(seconds=1)
        assert not fire_timer(remind.id)
        rt.clock = lambda: remind.due_at
        assert fire_timer(remind.id) and not fire_timer(remind.id)
    finally:
        jobs._bound.clear()
        enqueue._state.clear()
    assert notified(waiting, "auto_close_reminder") == 1


def test_sweep_fires_the_timers_redis_lost(rt, waiting):
    """Redis flushed (the exact-time jobs are gone): the sweep reminds, then closes, once each."""
    rt.redis.flushall()
    remind = timers.pending(waiting, REMIND)
    assert sweep(rt, now=remind.due_at).timers == {REMIND: 1}
    assert sweep(rt, now=remind.due_at).timers == {}
    assert timers.pending(waiting, REMIND) is None and notified(waiting, "auto_close_reminder") == 1
    close = timers.pending(waiting, AUTO_CLOSE)
    assert sweep(rt, now=close.due_at).timers == {AUTO_CLOSE: 1}
    assert Ticket.get_by_id(waiting.id).closed_reason == "auto"


def test_both_overdue_closes_without_a_late_reminder(rt, waiting):
    """After a long outage the reminder would promise a close that is already past: only the close happens."""
    rt.redis.flushall()
    close = timers.pending(waiting, AUTO_CLOSE)
    assert sweep(rt, now=close.due_at + timedelta(hours=1)).timers == {AUTO_CLOSE: 1}
    assert notified(waiting, "auto_close_reminder") == 0 and notified(waiting, "ticket_auto_closed") == 1


def test_a_timer_of_a_removed_kind_is_logged_and_marked(rt, waiting, caplog):
    gone = Timer.create(kind="kind_removed_in_a_release", ticket=waiting, due_at=rt.clock() - timedelta(minutes=1))
    with caplog.at_level(logging.WARNING, logger="engine.timers"):
        assert sweep(rt).timers == {}
    gone = Timer.get_by_id(gone.id)
    assert (gone.state, gone.last_error) == (FAILED, "unknown timer kind 'kind_removed_in_a_release'")
    assert "kind_removed_in_a_release" in caplog.text
    caplog.clear()
    sweep(rt)
    assert "kind_removed_in_a_release" not in caplog.text  # marked: never picked up again
    assert timers.pending(waiting, AUTO_CLOSE).state == PENDING  # the ticket's own timers are untouched


def test_a_new_kind_is_one_more_registry_entry_and_a_failing_handler_is_retried_then_failed(rt, waiting):
    """What SLA timers will be: a kind with its own handler, scheduled and fired through the same table."""
    calls = []

    def breach(rt, timer, now):
        calls.append(timer.payload["target"])
        if timer.payload["target"] == "broken":
            raise RuntimeError("template missing")
        return Fired()

    kinds = TimerKinds([*(KINDS.get(name) for name in KINDS.names()), TimerKind("sla_breach", breach)])
    now = rt.clock()
    with rt.db.atomic():
        ok = timers.schedule("sla_breach", waiting, now, now, payload={"target": "first_response"})
    other = tickets.create_ticket(rt, waiting.customer, "hosting/site-down", {**SITE, "subject": "второй"}, [], "web")
    with rt.db.atomic():
        broken = timers.schedule("sla_breach", other, now, now, payload={"target": "broken"})
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert kinds.fire_due(rt, now) == ({"sla_breach": 1} if attempt == 1 else {})
        row = Timer.get_by_id(broken.id)
        assert (row.attempts, row.state) == (attempt, FAILED if attempt == MAX_ATTEMPTS else PENDING)
        assert row.last_error == "RuntimeError: template missing"
    assert Timer.get_by_id(ok.id).state == FIRED and calls.count("first_response") == 1

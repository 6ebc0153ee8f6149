"""Auto-close and its reminder: delayed RQ jobs after a staff reply, the sweep as a backstop, a reply cancels both."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.store.models import Notification, Ticket, User
from engine.sweeper import sweep
from engine.tickets import AUTO_CLOSE, REMIND, add_reply, create_ticket
from engine.timers import pending
from tests.notify.conftest import TICKET_VALUES, make_customer, work, work_until

pytestmark = pytest.mark.postgres  # delivery state and idempotency rely on conditional UPDATEs: run on both databases


@pytest.fixture
def waiting(bound):
    """A ticket the agent answered: waiting for the customer, reminder in 2 s, auto-close in 4 s."""
    customer = make_customer()
    agent = User.create(email="agent@example.com", role="agent", name="Агент")
    ticket = create_ticket(bound, customer, "chats/chat-problem", TICKET_VALUES, [], "web")
    add_reply(bound, ticket, agent, "Пришлите, пожалуйста, скриншот.", [], "web")
    return Ticket.get_by_id(ticket.id)


def subjects(mailbox):
    return [m["Subject"] for _, m in mailbox.messages]


def reminded(ticket) -> bool:
    """The customer was sent the auto-close reminder."""
    return Notification.select().where((Notification.ticket == ticket) & (Notification.type_id == "auto_close_reminder")).exists()


def waiting_jobs(queue) -> list[str]:
    """The delayed jobs of the auto-close and its reminder (the shipped config's SLA timers have their own)."""
    return [i for i in queue.scheduled_job_registry.get_job_ids() if i.split("-")[0] in (AUTO_CLOSE, REMIND)]


def test_staff_reply_schedules_reminder_and_auto_close_jobs(bound, waiting):
    """Both deadlines become delayed jobs in RQ's scheduled registry."""
    assert waiting.status == "waiting_customer"
    assert pending(waiting, AUTO_CLOSE).due_at - waiting.waiting_since == timedelta(seconds=4)
    assert sorted(i.split("-")[0] for i in waiting_jobs(bound.queue)) == ["autoclose", "remind"]


def test_reminder_then_auto_close_reach_the_customer(clock, bound, waiting, mailbox):
    """The reminder goes out first (at 2 s), then the ticket is archived as auto-closed (at 4 s) and the customer told."""
    number = waiting.number
    clock.advance(1.5)
    work(bound)
    assert not reminded(waiting)  # not before its time
    clock.advance(1)  # 2.5 s: RQ runs the reminder job at the whole second after 2 s
    assert work_until(bound, lambda: reminded(waiting))
    assert Ticket.get_by_id(waiting.id).status == "waiting_customer"
    clock.advance(2)  # 4.5 s
    assert work_until(bound, lambda: Ticket.get_by_id(waiting.id).status == "archived")
    assert Ticket.get_by_id(waiting.id).closed_reason == "auto"
    work_until(bound, lambda: f"Запрос #{number} закрыт" in subjects(mailbox))
    assert f"Запрос #{number} ждет вашего ответа" in subjects(mailbox)
    assert subjects(mailbox).index(f"Запрос #{number} ждет вашего ответа") < subjects(mailbox).index(f"Запрос #{number} закрыт")


def test_customer_reply_cancels_reminder_and_auto_close(clock, bound, waiting, mailbox):
    """A reply before the deadlines: the delayed jobs run (past both deadlines) and do nothing."""
    add_reply(bound, waiting, waiting.customer, "Вот скриншот.", [], "web")
    clock.advance(5)
    work(bound)
    assert not waiting_jobs(bound.queue)
    ticket = Ticket.get_by_id(waiting.id)
    assert ticket.status == "waiting_support" and not reminded(ticket)
    assert not any("закрыт" in s or "ждет" in s for s in subjects(mailbox))


def test_sweep_closes_overdue_tickets_when_redis_lost_the_jobs(bound, waiting):
    """After FLUSHALL the database sweep still reminds and then closes, once each."""
    bound.redis.flushall()
    now = datetime.now(timezone.utc)
    assert sweep(bound, now=now + timedelta(seconds=3)).timers[REMIND] == 1
    assert sweep(bound, now=now + timedelta(seconds=3)).timers[REMIND] == 0
    report = sweep(bound, now=now + timedelta(seconds=5))
    assert report.timers[AUTO_CLOSE] == 1 and Ticket.get_by_id(waiting.id).status == "archived"
    assert sweep(bound, now=now + timedelta(seconds=6)).timers[AUTO_CLOSE] == 0

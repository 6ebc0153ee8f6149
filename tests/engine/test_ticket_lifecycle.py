"""The ticket state machine through the engine API: transitions, refusals, timers, notifications, races."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engine import tickets, timers
from engine.errors import NotFound, PermissionDenied, TransitionRefused, ValidationFailed
from engine.store.models import AuditLog, Message, Notification, Ticket, TicketEvent
from engine.ticket_states import ACTIONS, STATUSES, TRANSITIONS, next_status
from engine.tickets import AUTO_CLOSE, REMIND
from engine.timer_kinds import KINDS
from tests.engine.samples import png

pytestmark = pytest.mark.postgres

SITE = {"subject": "Сайт не открывается", "message": "С утра 502", "account_id": "12345"}


@pytest.fixture
def ticket(rt, customer):
    return tickets.create_ticket(rt, customer, "hosting/site-down", SITE, [], "web")


def events(ticket) -> list[tuple[str, str, str]]:
    return [(e.old, e.new, e.reason) for e in TicketEvent.select().where(TicketEvent.ticket == ticket).order_by(TicketEvent.id)]


def types(ticket) -> list[str]:
    return [n.type_id for n in Notification.select().where(Notification.ticket == ticket).order_by(Notification.id)]


def due_at(ticket, kind):
    """When the ticket's pending timer of `kind` fires (None: no such timer)."""
    timer = timers.pending(ticket, kind)
    return timer and timer.due_at


def fire(rt, ticket, kind, now) -> bool:
    """Fire the ticket's pending timer of `kind` at `now`, as its RQ job or the sweep does; True if it acted."""
    timer = timers.pending(ticket, kind)
    return timer is not None and KINDS.fire(rt, timer.id, now)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_pair_is_either_a_transition_or_refused(catalog, status, action):
    if (status, action) in TRANSITIONS:
        assert next_status(catalog, status, action, "ru") == TRANSITIONS[(status, action)]
    else:
        with pytest.raises(TransitionRefused):
            next_status(catalog, status, action, "ru")


def test_archived_refuses_everything_with_a_localized_message(catalog):
    for action in ACTIONS:
        with pytest.raises(TransitionRefused) as exc:
            next_status(catalog, "archived", action, "en")
        assert str(exc.value) == "This request is archived and cannot be replied to. Please create a new request."
        assert exc.value.code == "ticket_archived"


def test_staff_reply_waits_for_the_customer_and_sets_timers(rt, ticket, agent):
    message = tickets.add_reply(rt, ticket, agent, "Проверьте DNS", [png()], "web")
    assert (message.author_kind, ticket.status) == ("agent", "waiting_customer")
    assert due_at(ticket, AUTO_CLOSE) - ticket.waiting_since == timedelta(days=2)
    assert due_at(ticket, AUTO_CLOSE) - due_at(ticket, REMIND) == timedelta(days=1)
    assert types(ticket) == ["ticket_created", "support_reply"]
    reply = Notification.get(Notification.type_id == "support_reply")
    assert reply.params == {"ticket_number": ticket.number, "subject": "Сайт не открывается", "reply": "Проверьте DNS"}
    assert AuditLog.get(AuditLog.action == "staff_reply").actor_id == agent.id


def test_customer_reply_goes_back_to_support_and_clears_timers(rt, ticket, agent, customer):
    tickets.add_reply(rt, ticket, agent, "Проверьте DNS", [], "web")
    tickets.add_reply(rt, ticket, customer, "Проверил", [], "telegram")
    assert ticket.status == "waiting_support"
    assert (due_at(ticket, AUTO_CLOSE), due_at(ticket, REMIND), ticket.waiting_since) == (None, None, None)
    assert events(ticket) == [(None, "new", "created"), ("new", "waiting_customer", "staff_reply"),
                              ("waiting_customer", "waiting_support", "customer_reply")]


def test_take_moves_a_new_ticket_to_support(rt, ticket, agent):
    tickets.take_ticket(rt, ticket, agent)
    assert ticket.status == "waiting_support"
    with pytest.raises(TransitionRefused):
        tickets.take_ticket(rt, ticket, agent)


def test_reply_to_an_archived_ticket_is_refused(rt, ticket, customer, agent):
    tickets.archive_ticket(rt, ticket, customer, "solved")
    assert (ticket.status, ticket.closed_reason) == ("archived", "customer")
    assert ticket.closed_at is not None
    for author in (customer, agent):
        with pytest.raises(TransitionRefused) as exc:
            tickets.add_reply(rt, ticket, author, "hello?", [], "web")
        assert str(exc.value) == "Запрос находится в архиве, ответить в нём нельзя. Создайте новый запрос."
    with pytest.raises(TransitionRefused):
        tickets.archive_ticket(rt, ticket, agent, "again")
    assert types(ticket) == ["ticket_created"]  # the customer archived it: nobody to tell


def test_staff_archive_notifies_the_customer(rt, ticket, agent):
    tickets.archive_ticket(rt, ticket, agent, "resolved")
    assert (ticket.closed_reason, types(ticket)) == ("staff", ["ticket_created", "ticket_archived"])


def test_empty_reply_is_refused(rt, ticket, customer):
    with pytest.raises(ValidationFailed) as exc:
        tickets.add_reply(rt, ticket, customer, "  ", [], "web")
    assert exc.value.errors == {"message": "Заполните это поле."}
    tickets.add_reply(rt, ticket, customer, "", [png()], "web")  # a file alone is a reply


def test_another_customer_cannot_touch_the_ticket(rt, ticket, other_customer):
    with pytest.raises(NotFound):
        tickets.customer_ticket(other_customer, ticket.number)
    with pytest.raises(NotFound):
        tickets.add_reply(rt, ticket, other_customer, "hi", [], "web")
    with pytest.raises(NotFound):
        tickets.archive_ticket(rt, ticket, other_customer, "")


@pytest.mark.parametrize("number", ["abc", "-1", "0", "99999999999999999999", "1001 OR 1=1", None])
def test_odd_numbers_are_not_found(ticket, customer, number):
    with pytest.raises(NotFound):
        tickets.customer_ticket(customer, number)


def test_customer_lists_active_and_archived(rt, ticket, customer):
    assert tickets.customer_ticket(customer, f"#{ticket.number}").id == ticket.id
    assert [t.id for t in tickets.customer_tickets(customer)] == [ticket.id]
    tickets.archive_ticket(rt, ticket, customer, "")
    assert tickets.customer_tickets(customer) == []
    assert [t.id for t in tickets.customer_tickets(customer, active=False)] == [ticket.id]


def test_staff_functions_check_roles(rt, ticket, customer, agent):
    for call in (lambda: tickets.set_priority(rt, ticket, customer, "high"), lambda: tickets.take_ticket(rt, ticket, customer),
                 lambda: tickets.staff_tickets(customer), lambda: tickets.staff_ticket(customer, ticket.number)):
        with pytest.raises(PermissionDenied):
            call()
    tickets.set_priority(rt, ticket, agent, "low")
    assert ticket.priority == "low"
    assert TicketEvent.get(TicketEvent.kind == "priority").new == "low"
    with pytest.raises(ValidationFailed):
        tickets.set_priority(rt, ticket, agent, "critical")


def test_queue_puts_urgent_first(rt, customer, agent):
    low = tickets.create_ticket(rt, customer, "hosting/other", {"subject": "s", "message": "m"}, [], "web")
    urgent = tickets.create_ticket(rt, customer, "hosting/site-down", SITE, [], "web")
    assert [t.id for t in tickets.staff_tickets(agent)] == [urgent.id, low.id]
    assert tickets.staff_ticket(agent, low.number).id == low.id


def test_queue_filters_by_category_and_topic_in_the_query(rt, customer, agent):
    other = tickets.create_ticket(rt, customer, "hosting/other", {"subject": "s", "message": "m"}, [], "web")
    site = tickets.create_ticket(rt, customer, "hosting/site-down", SITE, [], "web")
    assert [t.id for t in tickets.staff_tickets(agent, category_id="hosting", topic_id="other")] == [other.id]
    assert [t.id for t in tickets.staff_tickets(agent, topic_id="site-down")] == [site.id]
    assert tickets.staff_tickets(agent, category_id="no-such") == []


def test_auto_close_after_the_deadline_with_one_reminder(rt, ticket, agent):
    tickets.add_reply(rt, ticket, agent, "Проверьте DNS", [], "web")
    remind_at, close_at = due_at(ticket, REMIND), due_at(ticket, AUTO_CLOSE)
    assert timers.due(remind_at - timedelta(seconds=1)) == []
    assert [(t.kind, t.ticket_id) for t in timers.due(remind_at)] == [(REMIND, ticket.id)]
    assert fire(rt, ticket, REMIND, remind_at)
    assert not fire(rt, ticket, REMIND, remind_at)
    assert not fire(rt, ticket, AUTO_CLOSE, close_at - timedelta(seconds=1))
    assert fire(rt, ticket, AUTO_CLOSE, close_at)
    assert not fire(rt, ticket, AUTO_CLOSE, close_at)
    closed = Ticket.get_by_id(ticket.id)
    assert (closed.status, closed.closed_reason, due_at(closed, AUTO_CLOSE)) == ("archived", "auto", None)
    assert types(ticket) == ["ticket_created", "support_reply", "auto_close_reminder", "ticket_auto_closed"]


def test_customer_reply_racing_auto_close_wins(rt, ticket, agent, customer):
    """The reply lands seconds before the deadline; the job that runs after it finds nothing to close."""
    tickets.add_reply(rt, ticket, agent, "Проверьте DNS", [], "web")
    timer = timers.pending(ticket, AUTO_CLOSE)
    tickets.add_reply(rt, ticket, customer, "Секунду, проверяю", [], "web")
    assert not KINDS.fire(rt, timer.id, now=timer.due_at + timedelta(hours=1))
    assert Ticket.get_by_id(ticket.id).status == "waiting_support"


def test_auto_close_winning_the_race_refuses_the_late_reply(rt, ticket, agent, customer):
    tickets.add_reply(rt, ticket, agent, "Проверьте DNS", [], "web")
    stale = Ticket.get_by_id(ticket.id)  # the customer's page was loaded before the job ran
    assert fire(rt, ticket, AUTO_CLOSE, due_at(ticket, AUTO_CLOSE))
    with pytest.raises(TransitionRefused):
        tickets.add_reply(rt, stale, customer, "поздно", [], "web")


def test_reply_and_auto_close_at_the_same_instant_never_both_win(rt, customer, agent):
    """Threads race a customer reply against the job: either the reply lands and the ticket stays open,
    or the ticket is auto-closed and the reply refused; never an archived ticket with a late reply in it."""
    for round_ in range(6):
        ticket = tickets.create_ticket(rt, customer, "hosting/site-down", {**SITE, "subject": f"race {round_}"}, [], "web")
        tickets.add_reply(rt, ticket, agent, "Проверьте DNS", [], "web")
        timer = timers.pending(ticket, AUTO_CLOSE)  # what the RQ job holds: the timer's id
        barrier, outcome = threading.Barrier(2), {}

        def reply(ticket=ticket, barrier=barrier, outcome=outcome):
            barrier.wait()
            try:
                tickets.add_reply(rt, Ticket.get_by_id(ticket.id), customer, "я здесь", [], "web")
                outcome["reply"] = True
            except TransitionRefused:
                outcome["reply"] = False
            finally:
                rt.db.close()

        def close(timer=timer, barrier=barrier, outcome=outcome):
            barrier.wait()
            try:
                outcome["closed"] = KINDS.fire(rt, timer.id, now=timer.due_at)
            finally:
                rt.db.close()

        workers = [threading.Thread(target=reply), threading.Thread(target=close)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(timeout=60)
        final = Ticket.get_by_id(ticket.id)
        late = Message.select().where((Message.ticket == ticket) & (Message.body == "я здесь")).count()
        assert outcome["reply"] != outcome["closed"]
        assert (final.status, late) == (("waiting_support", 1) if outcome["reply"] else ("archived", 0))


def test_missing_notification_types_are_skipped(rt, ticket, agent, config_dir):
    """A catalog without ticket_archived still archives; nothing is written for the missing type."""
    types_file = config_dir / "notifications" / "types.yaml"
    text = types_file.read_text()
    types_file.write_text(text[: text.index("  ticket_archived:")] + text[text.index("  ticket_auto_closed:"):])
    rt.catalogs.reload()
    tickets.archive_ticket(rt, ticket, agent, "done")
    assert types(ticket) == ["ticket_created"]

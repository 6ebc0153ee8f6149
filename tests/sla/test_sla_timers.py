"""SLA targets as timer kinds: started on creation, met by the first staff reply and the archive, paused while the
ticket waits for the customer, warning and breach notifications written once per target whatever fires them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine import counters, enqueue, notify, sla, tickets, timers
from engine.store.models import NO_DEADLINE, Delivery, Notification, SlaClock, Ticket, Timer
from engine.timer_kinds import KINDS
from tests.engine.conftest import make_user
from tests.sla.conftest import SLA_YAML

pytestmark = pytest.mark.postgres  # the clocks, their conditional updates and the breach keyset on both databases

SITE = {"subject": "Сайт не открывается", "message": "С утра 502", "account_id": "12345", "panel": "ISPmanager"}
UTC = timezone.utc


def create(rt, customer, topic="hosting/site-down", values=SITE):
    return tickets.create_ticket(rt, customer, topic, dict(values), [], "web")


def clocks(ticket) -> dict[str, SlaClock]:
    return {c.target: c for c in SlaClock.select().where(SlaClock.ticket == ticket)}


def pending(ticket) -> dict[str, tuple[datetime, str]]:
    return {t.kind: (t.due_at, t.payload["stage"]) for t in Timer.select().where((Timer.ticket == ticket) & (Timer.state == "pending"))
            if t.kind.startswith("sla_")}


def sent(ticket, type_id) -> list[tuple[str, dict]]:
    rows = Notification.select().where((Notification.ticket == ticket) & (Notification.type_id == type_id)).order_by(Notification.id)
    return [(n.user.email, n.params) for n in rows]


def test_creation_starts_both_targets_with_their_warnings(rt, clock, customer):
    """Urgent, Monday 10:00 Moscow: first response due 12:00, resolution 18:00; each warns an hour before."""
    ticket = create(rt, customer)
    found = clocks(ticket)
    assert found["first_response"].due_at == datetime(2027, 3, 15, 9, tzinfo=UTC)
    assert found["resolution"].due_at == datetime(2027, 3, 15, 15, tzinfo=UTC)
    assert pending(ticket) == {"sla_first_response": (datetime(2027, 3, 15, 8, tzinfo=UTC), "warning"),
                               "sla_resolution": (datetime(2027, 3, 15, 14, tzinfo=UTC), "warning")}
    assert Ticket.get_by_id(ticket.id).sla_due_at == datetime(2027, 3, 15, 9, tzinfo=UTC)
    job_ids = set(rt.queue.scheduled_job_registry.get_job_ids())
    assert {f"{t.kind}-{t.id}" for t in Timer.select().where(Timer.ticket == ticket)} <= job_ids


def test_creation_enqueues_its_jobs_once_with_the_count(rt, clock, customer):
    """After commit the deliveries, the timers' exact-time jobs (at their due instants) and the tickets_created count
    go to Redis together (engine.enqueue.enqueue_jobs); handing the same rows over again enqueues nothing twice."""
    ticket = create(rt, customer)
    notifications = [n.id for n in Notification.select().where(Notification.ticket == ticket)]
    rows = [row for chunk in notify.pending_deliveries(notifications) for row in chunk]
    ticket_timers = list(Timer.select().where(Timer.ticket == ticket))
    queued = set(rt.queue.job_ids)
    assert rows and queued == {enqueue.delivery_job_id(row) for row in rows}
    scheduled = rt.queue.scheduled_job_registry
    assert {enqueue.timer_job_id(t): scheduled.get_scheduled_time(enqueue.timer_job_id(t)) for t in ticket_timers} == {
        enqueue.timer_job_id(t): t.due_at for t in ticket_timers}
    assert counters.read_all(rt.redis)["tickets_created"] == [({"channel": "web"}, 1)]
    assert enqueue.enqueue_jobs(rt, rows, ticket_timers) == 0
    assert sorted(rt.queue.job_ids) == sorted(queued)
    assert len(scheduled) == len(ticket_timers)


def test_a_ticket_without_targets_has_no_deadline(rt, clock, customer):
    ticket = create(rt, customer, "hosting/web-only", {"subject": "x", "message": "y"})  # normal: no target
    assert clocks(ticket) == {} and Ticket.get_by_id(ticket.id).sla_due_at == NO_DEADLINE


def test_created_on_friday_evening_counts_from_monday(rt, clock, customer):
    clock.set(2027, 3, 12, 16, 30)  # Friday 19:30 Moscow, after hours
    ticket = create(rt, customer)
    assert clocks(ticket)["first_response"].due_at == datetime(2027, 3, 15, 8, tzinfo=UTC)  # Monday 11:00


def test_waiting_for_the_customer_pauses_and_the_answer_resumes(rt, clock, customer, agent):
    ticket = create(rt, customer)
    clock.set(2027, 3, 15, 8, 30)  # 11:30: the first answer, in time
    tickets.add_reply(rt, ticket, agent, "Проверьте DNS", [], "web")
    found = clocks(ticket)
    assert (found["first_response"].state, found["first_response"].met_at) == ("met", clock.now)
    assert (found["resolution"].state, found["resolution"].remaining_seconds) == ("paused", int(6.5 * 3600))
    assert pending(ticket) == {} and Ticket.get_by_id(ticket.id).sla_due_at == NO_DEADLINE

    clock.set(2027, 3, 16, 13, 0)  # Tuesday 16:00: the customer answers; the day and a half waiting is not counted
    tickets.add_reply(rt, ticket, customer, "Не помогло", [], "web")
    resolution = clocks(ticket)["resolution"]
    assert resolution.state == "running"
    assert resolution.due_at == datetime(2027, 3, 17, 10, 30, tzinfo=UTC)  # 2 h on Tuesday + 4.5 h on Wednesday
    assert pending(ticket) == {"sla_resolution": (datetime(2027, 3, 17, 9, 30, tzinfo=UTC), "warning")}
    assert Ticket.get_by_id(ticket.id).sla_due_at == resolution.due_at


def test_archive_meets_the_resolution_and_stops_an_unanswered_first_response(rt, clock, customer, agent):
    ticket = create(rt, customer)
    clock.set(2027, 3, 15, 8, 0)
    tickets.archive_ticket(rt, ticket, agent, "дубликат")
    found = clocks(ticket)
    assert (found["resolution"].state, found["first_response"].state) == ("met", "stopped")
    assert pending(ticket) == {}
    assert KINDS.fire_due(rt, now=datetime(2027, 3, 20, tzinfo=UTC)) == {}


def test_warning_then_breach_each_written_once_whoever_fires(rt, clock, customer, agent):
    """The exact-time job and the sweep both fire, twice each: one warning and one breach per recipient."""
    colleague = make_user("colleague@example.com", "agent-password", role="agent")
    quiet = make_user("quiet@example.com", "agent-password", role="admin")
    notify.set_preferences(quiet, {"sla_warning": {"web": False}, "sla_breach": {"web": False}})
    notify.set_preferences(agent, {"sla_breach": {"email": True}})
    ticket = create(rt, customer)  # no team, nobody assigned: the staff who have the types on hear of it
    warning = timers.pending(ticket, "sla_first_response")

    clock.set(2027, 3, 15, 8, 0)  # 11:00: an hour before the first response is due
    assert KINDS.fire(rt, warning.id) is True  # what the exact-time job fire_timer does
    assert KINDS.fire(rt, warning.id) is False and KINDS.fire_due(rt) == {}
    assert sorted(email for email, _ in sent(ticket, "sla_warning")) == sorted([agent.email, colleague.email])
    assert sent(ticket, "sla_warning")[0][1] == {"ticket_number": ticket.number, "target": "first_response",
                                                 "due_local": "2027-03-15 12:00 Europe/Moscow"}
    breach = timers.pending(ticket, "sla_first_response")
    assert (breach.due_at, breach.payload) == (datetime(2027, 3, 15, 9, tzinfo=UTC), {"stage": "breach"})

    clock.set(2027, 3, 15, 9, 5)
    assert KINDS.fire_due(rt) == {"sla_first_response": 1}
    assert KINDS.fire_due(rt) == {} and KINDS.fire(rt, breach.id) is False
    assert sorted(email for email, _ in sent(ticket, "sla_breach")) == sorted([agent.email, colleague.email])
    assert clocks(ticket)["first_response"].breached_at == clock.now
    emails = Delivery.select().join(Notification).where((Notification.type_id == "sla_breach") & (Delivery.channel == "email"))
    assert [d.target for d in emails] == [agent.email]  # the one who opted in to email, once
    assert sent(ticket, "sla_breach") and not [n for n in sent(ticket, "sla_breach") if n[0] == customer.email]

    tickets.add_reply(rt, ticket, agent, "Поздно, но отвечаем", [], "web")  # met late: still breached
    assert (clocks(ticket)["first_response"].state, sla.ticket_targets(rt.catalog, ticket, clock.now)[0].breached) == ("met", True)


TEAMS_YAML = """
teams:
  hosting:
    title: Хостинг
    members: [agent@example.com, colleague@example.com]
    notify: {email: hosting-team@example.com}
default: hosting
"""


def test_the_assignee_hears_of_it_or_else_the_team_and_the_teams_address_always(rt, clock, customer, agent, config_dir):
    """Unassigned: the team's members; assigned: only the assignee, whatever the others' settings; the team's
    address both times."""
    (config_dir / "teams.yaml").write_text(TEAMS_YAML, encoding="utf-8")
    assert rt.catalogs.reload()
    colleague = make_user("colleague@example.com", "agent-password", role="agent")
    make_user("outsider@example.com", "agent-password", role="admin")
    ticket = create(rt, customer)
    assert ticket.team == "hosting"
    clock.set(2027, 3, 15, 8, 0)
    assert KINDS.fire_due(rt) == {"sla_first_response": 1}
    assert sorted(email for email, _ in sent(ticket, "sla_warning")) == sorted(
        [agent.email, colleague.email, "hosting@team.invalid"])
    tickets.take_ticket(rt, ticket, colleague)
    clock.set(2027, 3, 15, 9, 5)
    assert KINDS.fire_due(rt) == {"sla_first_response": 1}
    assert sorted(email for email, _ in sent(ticket, "sla_breach")) == [colleague.email, "hosting@team.invalid"]
    team_mail = Delivery.select().join(Notification).where(Notification.type_id == "sla_breach", Delivery.channel == "email")
    assert "hosting-team@example.com" in [d.target for d in team_mail]


def test_a_breach_timer_fired_after_a_pause_does_nothing(rt, clock, customer, agent):
    ticket = create(rt, customer)
    stale = timers.pending(ticket, "sla_resolution")
    clock.set(2027, 3, 15, 8, 0)
    tickets.add_reply(rt, ticket, agent, "Ответ", [], "web")
    clock.set(2027, 3, 15, 15, 0)
    Timer.update(state="pending").where(Timer.id == stale.id).execute()  # as if the cancel had lost a race
    assert KINDS.fire(rt, stale.id) is False
    assert sent(ticket, "sla_warning") == []


def test_staff_only_types_stay_out_of_the_customers_settings(rt, customer, agent):
    assert "sla_breach" not in notify.preferences(rt.catalog, customer)
    assert notify.preferences(rt.catalog, agent)["sla_breach"]["web"] is True


def test_a_reload_applies_new_targets_to_new_tickets_only(rt, clock, customer, config_dir):
    before = create(rt, customer)
    (config_dir / "sla.yaml").write_text(SLA_YAML.replace("first_response: 2h", "first_response: 30m"), encoding="utf-8")
    assert rt.catalogs.reload()
    after = create(rt, customer, values={**SITE, "subject": "ещё"})
    assert clocks(before)["first_response"].limit_seconds == 7200
    assert clocks(after)["first_response"].due_at == clock.now + timedelta(minutes=30)


def test_ticket_targets_and_time_to_breach(rt, clock, customer, agent):
    ticket = create(rt, customer)
    clock.set(2027, 3, 15, 14, 0)  # 17:00 Moscow
    views = {v.target: v for v in sla.ticket_targets(rt.catalog, ticket, clock.now)}
    assert views["first_response"].remaining == timedelta(hours=-5) and views["resolution"].remaining == timedelta(hours=1)
    assert sla.time_to_breach(rt.catalog, Ticket.get_by_id(ticket.id), clock.now) == timedelta(hours=-5)
    tickets.add_reply(rt, ticket, agent, "Ответ", [], "web")
    views = {v.target: v for v in sla.ticket_targets(rt.catalog, ticket, clock.now)}
    assert (views["first_response"].state, views["resolution"].state, views["resolution"].remaining) == ("met", "paused", timedelta(hours=1))


def test_a_low_ticket_tracks_its_resolution_only(rt, clock, customer):
    ticket = create(rt, customer, "hosting/other", {"subject": "x", "message": "y"})
    assert set(clocks(ticket)) == {"resolution"}
    assert clocks(ticket)["resolution"].due_at == datetime(2027, 3, 16, 14, tzinfo=UTC)  # 8 h Monday, 8 h Tuesday


def test_queue_by_time_to_breach_pages_through_every_ticket_once(rt, clock, customer, agent):
    """Keyset pages of 2 over urgent, low and target-less tickets: soonest breach first, those without one last."""
    made = []
    for minute, topic in enumerate(["hosting/other", "hosting/site-down", "hosting/web-only", "hosting/site-down",
                                    "hosting/other"]):
        clock.now = datetime(2027, 3, 15, 7, minute, tzinfo=UTC)
        values = SITE if topic == "hosting/site-down" else {"subject": f"s{minute}", "message": "m"}
        made.append(create(rt, customer, topic, {**values, "subject": f"s{minute}"}))
    expected = [made[1], made[3], made[0], made[4], made[2]]  # urgent (2 h), low (16 h), none
    seen, after = [], None
    while True:
        page = tickets.staff_ticket_page(agent, sort="breach", size=2, after=after)
        assert page.total == 5
        seen += page.rows
        if page.next is None:
            break
        after = page.next
    assert [t.number for t in seen] == [t.number for t in expected]
    back = tickets.staff_ticket_page(agent, sort="breach", size=2, before=page.previous)
    assert [t.number for t in back.rows] == [t.number for t in expected[2:4]]

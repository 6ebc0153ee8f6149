"""Case 21: times are timezone-aware UTC everywhere, and a deadline across a daylight-saving change is exact."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from peewee import DateTimeField

from engine import accounts, tickets, timers
from engine.store.models import ALL_MODELS, Ticket, UTCDateTimeField
from rq.registry import ScheduledJobRegistry
from engine.timer_kinds import KINDS
from tests.notify.conftest import write_policies
from tests.reliability.load import TICKET_VALUES

ZONES = ["Europe/Berlin", "America/New_York"]


def before_next_spring_forward(zone: str) -> datetime:
    """6 hours before the zone's clocks next jump forward, next year or later: the jobs scheduled then stay in the future."""
    local = ZoneInfo(zone)
    moment = datetime(datetime.now(timezone.utc).year + 1, 1, 1, tzinfo=timezone.utc)
    while moment.astimezone(local).utcoffset() >= (moment + timedelta(hours=1)).astimezone(local).utcoffset():
        moment += timedelta(hours=1)
    return moment - timedelta(hours=5)


def test_every_time_column_is_stored_as_utc():
    """A naive column would hand back local wall-clock times; every one must be a UTCDateTimeField."""
    naive = [f"{model.__name__}.{field.name}" for model in ALL_MODELS for field in model._meta.sorted_fields
             if isinstance(field, DateTimeField) and not isinstance(field, UTCDateTimeField)]
    assert naive == []


@pytest.fixture
def local_zone(monkeypatch):
    """Run the test with the process in a given time zone (as a server configured for local time would be)."""

    def switch(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield switch
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("zone", ZONES)
def test_auto_close_deadline_across_a_dst_change_is_exactly_the_policy(bound, config_dir, local_zone, zone):
    """2 days after a staff reply means 48 hours, though the local clock moves 49 between them."""
    rt, replied_at = bound, before_next_spring_forward(zone)
    local_zone(zone)
    write_policies(config_dir, auto_close={"after": "2d", "reminder_before": "1d"})
    assert rt.catalogs.reload()
    customer = accounts.create_user("anna@example.com", "secret-password-1")
    agent = accounts.create_user("agent@example.com", "secret-password-1", role="agent")
    with time_machine.travel(replied_at, tick=False):
        ticket = tickets.create_ticket(rt, customer, "chats/chat-problem", TICKET_VALUES, [], "web")
        tickets.add_reply(rt, ticket, agent, "Проверьте, пожалуйста.", [], "web")
    stored = Ticket.get_by_id(ticket.id)
    auto_close, reminder = timers.pending(ticket, tickets.AUTO_CLOSE), timers.pending(ticket, tickets.REMIND)
    assert auto_close.due_at.tzinfo == timezone.utc and stored.waiting_since == replied_at
    assert auto_close.due_at - replied_at == timedelta(hours=48)
    assert reminder.due_at - replied_at == timedelta(hours=24)
    local = ZoneInfo(zone)
    wall_clock = auto_close.due_at.astimezone(local).replace(tzinfo=None) - replied_at.astimezone(local).replace(tzinfo=None)
    assert wall_clock == timedelta(hours=49)  # clocks jumped forward an hour in between
    # The delayed RQ job is due at the same instant (whole seconds, never early).
    scheduled = ScheduledJobRegistry(queue=rt.queue)
    assert {scheduled.get_scheduled_time(job_id) for job_id in scheduled.get_job_ids() if job_id.startswith("autoclose-")} == {
        auto_close.due_at}
    # And the conditional close fires at that instant, not an hour either side.
    assert not KINDS.fire(rt, auto_close.id, now=auto_close.due_at - timedelta(seconds=1))
    assert KINDS.fire(rt, auto_close.id, now=auto_close.due_at)
    assert Ticket.get_by_id(ticket.id).closed_at == auto_close.due_at

"""SLA targets of tickets: business-time clocks that start with the ticket, pause while it waits for the customer, and
warn and breach through two timer kinds (engine/timers.py), one per target.

Every change runs inside the transaction that moves the ticket, after its row is locked (engine/tickets.py calls
`plan` and `start` when it creates one, `on_change` when it moves); the timers it returns are enqueued after commit. A ticket's targets are chosen from the
catalog when it is created (`SlaClock.limit_seconds`, `calendar_id`) and kept: a reload changing `sla.yaml` applies to
new tickets, while a paused clock resumes on the current definition of its calendar (the default one if its
calendar was removed). Without `sla.yaml` nothing starts, and clocks still running are stopped at their next change.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from engine import enqueue, notify as notify_module, teams, timers
from engine.business_time import add, between
from engine.catalog import Catalog
from engine.catalog.sla import TARGETS
from engine.store.models import NO_DEADLINE, Message, SlaClock, Ticket, TicketEvent, Timer, User
from engine.store.prepared import PreparedSelect, create
from engine.ticket_notifications import base_params
from engine.ticket_states import ARCHIVED, WAITING_CUSTOMER
from engine.timers import NOTHING, Fired, TimerKind

FIRST_RESPONSE, RESOLUTION = TARGETS
RUNNING, PAUSED, MET, STOPPED = "running", "paused", "met", "stopped"
OPEN = (RUNNING, PAUSED)
KINDS = {FIRST_RESPONSE: "sla_first_response", RESOLUTION: "sla_resolution"}  # Timer.kind of each target
WARNING, BREACH = "warning", "breach"  # a timer's payload `stage`
NOTIFICATION = {WARNING: "sla_warning", BREACH: "sla_breach"}


@dataclass(frozen=True)
class Start:
    """A new ticket's targets from its creation: the calendar and each target's (name, limit, due instant), computed
    before its row is written, so the row is inserted with its `sla_due_at`."""

    calendar_id: str
    clocks: tuple[tuple[str, timedelta, datetime], ...]

    @property
    def due_at(self) -> datetime:
        """The new ticket's Ticket.sla_due_at: the earliest due instant (every new clock runs)."""
        return min((due for _, _, due in self.clocks), default=NO_DEADLINE)


def plan(catalog: Catalog, category_id: str, topic_id: str, priority: str, now: datetime) -> Start | None:
    """The targets a ticket of this topic and priority created at `now` starts (its topic's); None without sla.yaml."""
    if catalog.sla is None:
        return None
    targets = catalog.sla.targets_for(category_id, topic_id, priority)
    calendar = catalog.sla.calendar(targets.calendar_id)
    return Start(targets.calendar_id, tuple((target, limit, add(calendar, now, limit))
                                            for target, limit in targets.limits.items()))


def start(catalog: Catalog, ticket: Ticket, now: datetime, planned: Start | None) -> list[Timer]:
    """Write the clocks of `planned` for a ticket inserted in this transaction with `planned.due_at` as its
    sla_due_at; returns the timers to enqueue after commit."""
    if planned is None:
        return []
    scheduled = []
    for target, limit, due_at in planned.clocks:
        clock = create(SlaClock, ticket=ticket, target=target, calendar_id=planned.calendar_id,
                       limit_seconds=int(limit.total_seconds()), due_at=due_at, started_at=now, updated_at=now)
        scheduled += _arm(catalog, clock, now, limit, fresh=True)
    return scheduled


def on_change(catalog: Catalog, ticket: Ticket, old: str, new: str, now: datetime, staff_replied: bool = False) -> list[Timer]:
    """Follow a ticket's move from status `old` to `new`: a staff reply meets the first response, archiving meets
    the resolution (and stops a first response never given), waiting for the customer pauses, the customer's answer
    resumes. Returns the timers to enqueue after commit."""
    if staff_replied:
        _finish(ticket, FIRST_RESPONSE, MET, now)
    scheduled: list[Timer] = []
    if new == ARCHIVED:
        _finish(ticket, RESOLUTION, MET, now)
        _finish(ticket, FIRST_RESPONSE, STOPPED, now)
    elif new == WAITING_CUSTOMER and old != WAITING_CUSTOMER:
        _pause(catalog, ticket, now)
    elif old == WAITING_CUSTOMER and new != WAITING_CUSTOMER:
        scheduled = _resume(catalog, ticket, now)
    _sync(ticket.id)
    return scheduled


def _arm(catalog: Catalog, clock: SlaClock, now: datetime, remaining: timedelta, fresh: bool = False) -> list[Timer]:
    """Schedule the clock's next event: the warning while more than `warn_before` is left and none was sent,
    else the breach (none once breached). `fresh`: the clock was just created, no timer of it to replace."""
    warn = catalog.sla.warn_before
    kind = KINDS[clock.target]
    schedule = timers.add if fresh else timers.schedule
    if clock.warned_at is None and warn and remaining > warn:
        warn_at = add(catalog.sla.calendar(clock.calendar_id), now, remaining - warn)
        return [schedule(kind, clock.ticket_id, warn_at, now, payload={"stage": WARNING})]
    if clock.breached_at is None:
        return [schedule(kind, clock.ticket_id, clock.due_at, now, payload={"stage": BREACH})]
    return []


def _finish(ticket: Ticket, target: str, state: str, now: datetime) -> None:
    """Close an open target as met or stopped, and cancel its timer."""
    closed = SlaClock.update(state=state, met_at=now if state == MET else None, updated_at=now).where(
        (SlaClock.ticket == ticket) & (SlaClock.target == target) & SlaClock.state.in_(OPEN)
    ).execute()
    if closed:
        timers.cancel([KINDS[target]], ticket, now)


def _pause(catalog: Catalog, ticket: Ticket, now: datetime) -> None:
    """Stop counting: each running target keeps the business time it had left (none once breached)."""
    for clock in SlaClock.select().where((SlaClock.ticket == ticket) & (SlaClock.state == RUNNING)):
        if catalog.sla is None:
            _finish(ticket, clock.target, STOPPED, now)
            continue
        left = between(catalog.sla.calendar(clock.calendar_id), now, clock.due_at)
        SlaClock.update(state=PAUSED, remaining_seconds=max(0, int(left.total_seconds())), updated_at=now).where(
            SlaClock.id == clock.id).execute()
    timers.cancel(KINDS.values(), ticket, now)


def _resume(catalog: Catalog, ticket: Ticket, now: datetime) -> list[Timer]:
    """Count again from `now`: the due instant is the business time left, added to now (a breached target keeps
    its breach instant)."""
    scheduled = []
    for clock in SlaClock.select().where((SlaClock.ticket == ticket) & (SlaClock.state == PAUSED)):
        if catalog.sla is None:
            _finish(ticket, clock.target, STOPPED, now)
            continue
        remaining = timedelta(seconds=clock.remaining_seconds or 0)
        if clock.breached_at is None:
            clock.due_at = add(catalog.sla.calendar(clock.calendar_id), now, remaining)
        clock.state = RUNNING
        SlaClock.update(state=RUNNING, due_at=clock.due_at, remaining_seconds=None, updated_at=now).where(
            SlaClock.id == clock.id).execute()
        scheduled += _arm(catalog, clock, now, remaining)
    return scheduled


def _sync(ticket_id: int) -> None:
    """Ticket.sla_due_at: the earliest due instant of its running targets (the queue's "time to breach" key)."""
    first = (SlaClock.select(SlaClock.due_at).where((SlaClock.ticket == ticket_id) & (SlaClock.state == RUNNING))
             .order_by(SlaClock.due_at).first())
    Ticket.update(sla_due_at=first.due_at if first else NO_DEADLINE).where(Ticket.id == ticket_id).execute()


# --- warnings and breaches -------------------------------------------------------------------------------------


def _fire_for(target: str):
    def fire(rt, timer: Timer, now: datetime) -> Fired:
        """Send the warning (then schedule the breach) or record the breach, once per target: the conditional
        UPDATE of warned_at / breached_at decides, so a second firing or a fired timer racing a pause does nothing."""
        stage = timer.payload.get("stage")
        catalog = rt.catalog
        clock = SlaClock.get_or_none((SlaClock.ticket == timer.ticket_id) & (SlaClock.target == target)
                                     & (SlaClock.state == RUNNING))
        if clock is None or catalog.sla is None or stage not in NOTIFICATION:
            return NOTHING
        mark = SlaClock.warned_at if stage == WARNING else SlaClock.breached_at
        if not SlaClock.update({mark: now, SlaClock.updated_at: now}).where(
                (SlaClock.id == clock.id) & mark.is_null() & (SlaClock.state == RUNNING)).execute():
            return NOTHING
        scheduled = []
        if stage == WARNING:
            scheduled = [timers.schedule(KINDS[target], clock.ticket_id, clock.due_at, now, payload={"stage": BREACH})]
        sent = _tell(catalog, Ticket.get_by_id(clock.ticket_id), clock, stage)

        def after_commit():
            notify_module.enqueue_deliveries(rt, sent)
            enqueue.enqueue_timers(rt, scheduled)

        return Fired(after_commit=after_commit)

    return fire


def recipients(catalog: Catalog, ticket: Ticket, type_id: str) -> list[User]:
    """Who hears of a ticket's SLA warning or breach: its assignee; unassigned, its team's members; with neither,
    the active agents and admins who have `type_id` on in their settings (defaults included) and the agent who last
    took or replied to the ticket. The team's own addresses are told besides (`_tell`)."""
    if ticket.assignee_id:
        assignee = User.get_or_none((User.id == ticket.assignee_id) & User.is_active)
        if assignee is not None:
            return [assignee]
    members = teams.members(catalog, ticket.team)
    if members:
        return members
    chosen = [user for user in teams.staff_accounts() if notify_module.enabled_channels(catalog, user, type_id)]
    last = last_agent(ticket)
    if last is not None and last.is_staff and last.is_active and all(user.id != last.id for user in chosen):
        chosen.append(last)
    return chosen


def last_agent(ticket: Ticket) -> User | None:
    """The staff member who last took the ticket or replied to the customer on it."""
    reply = (Message.select(Message.author, Message.created_at).where(
        (Message.ticket == ticket) & (Message.author_kind == "agent") & (Message.internal == False))  # noqa: E712 (SQL)
        .order_by(Message.id.desc()).first())
    take = (TicketEvent.select(TicketEvent.actor, TicketEvent.at).where(
        (TicketEvent.ticket == ticket) & (TicketEvent.reason == "take")).order_by(TicketEvent.id.desc()).first())
    moves = [(m.created_at, m.author_id) for m in (reply,) if m] + [(e.at, e.actor_id) for e in (take,) if e]
    return User.get_or_none(User.id == max(moves)[1]) if moves else None


def _tell(catalog: Catalog, ticket: Ticket, clock: SlaClock, stage: str) -> list[int]:
    """Write the stage's notification for each recipient (none when the catalog lacks the type)."""
    type_id = NOTIFICATION[stage]
    spec = catalog.notification_types.get(type_id)
    if spec is None:
        return []
    zone = catalog.sla.calendar(clock.calendar_id).zone
    params = {**base_params(ticket), "target": clock.target, "priority": ticket.priority,
              "due_at": clock.due_at.isoformat(), "due_local": f"{clock.due_at.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"}
    declared = {k: v for k, v in params.items() if k in spec.params}
    key = f"sla:{clock.id}:{stage}"
    written = [notify_module.notify(catalog, user, type_id, declared, ticket=ticket, idempotency_key=f"{key}:{user.id}").id
               for user in recipients(catalog, ticket, type_id)]
    team = catalog.teams.get(ticket.team) if ticket.team else None
    if team is not None and team.notify:  # the team's channel (a chat, a list address)
        written.append(notify_module.notify_addresses(catalog, teams.team_account(team), type_id, declared,
                                                      dict(team.notify), ticket=ticket,
                                                      idempotency_key=f"{key}:team:{team.id}").id)
    return written


FIRST_RESPONSE_KIND = TimerKind(KINDS[FIRST_RESPONSE], _fire_for(FIRST_RESPONSE))
RESOLUTION_KIND = TimerKind(KINDS[RESOLUTION], _fire_for(RESOLUTION))


# --- what the agent console shows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetView:
    target: str  # first_response | resolution
    state: str  # running | paused | met | stopped
    due_at: datetime
    breached: bool
    remaining: timedelta | None  # business time left (negative: overdue by this wall-clock time); None unless running or paused
    met_at: datetime | None
    zone: ZoneInfo  # the calendar's time zone: the page shows the instants in it
    ticks_at: datetime | None = None  # a running target's next drop in whole minutes left (what a kept page waits for)

    def local(self, instant: datetime) -> str:
        return f"{instant.astimezone(self.zone):%d.%m.%Y %H:%M} ({self.zone.key})"


_CLOCKS = PreparedSelect(lambda ticket_id: SlaClock.select().where(SlaClock.ticket == ticket_id), arity=1)


def ticket_targets(catalog: Catalog, ticket: Ticket, now: datetime) -> list[TargetView]:
    """The ticket's SLA targets in TARGETS order, each with its state, the business time left and, while running, when
    its whole minutes left next drop."""
    views = []
    clocks = {c.target: c for c in _CLOCKS.all(ticket.id)}
    for target in TARGETS:
        clock = clocks.get(target)
        if clock is None:
            continue
        calendar = catalog.sla.calendar(clock.calendar_id) if catalog.sla else None
        remaining = ticks_at = None
        if clock.state == PAUSED:
            remaining = timedelta(seconds=clock.remaining_seconds or 0)
        elif clock.state == RUNNING and calendar is not None:
            remaining = _left(calendar, now, clock.due_at)
            if remaining > timedelta(0):
                ticks_at = add(calendar, now, remaining % timedelta(minutes=1))
        views.append(TargetView(target, clock.state, clock.due_at, clock.breached_at is not None, remaining, clock.met_at,
                                calendar.zone if calendar else ZoneInfo("UTC"), ticks_at))
    return views


def time_to_breach(catalog: Catalog, ticket: Ticket, now: datetime) -> timedelta | None:
    """Business time until the ticket's earliest running target breaches (negative: breached); None without one."""
    if catalog.sla is None or ticket.sla_due_at is None or ticket.sla_due_at >= NO_DEADLINE:
        return None
    targets = catalog.sla.targets_for(ticket.category_id, ticket.topic_id, ticket.priority)
    return _left(catalog.sla.calendar(targets.calendar_id), now, ticket.sla_due_at)


def _left(calendar, now: datetime, due: datetime) -> timedelta:
    """Business time from now to `due`; once past, the wall-clock overdue time (negative), which costs no walk over
    the calendar days since (a queue of long-breached tickets stays cheap)."""
    return due - now if due <= now else between(calendar, now, due)

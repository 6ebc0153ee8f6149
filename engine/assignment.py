"""Who works a ticket: take (assign to me), assign to a colleague of the ticket's team, unassign, move to another
team. Each change is one conditional UPDATE (of two agents taking at once, one wins and the other is told who did),
a TicketEvent (the ticket's history) and an AuditLog row."""
from __future__ import annotations

from engine import notify, staff_notifications, teams
from engine.errors import NotFound, PermissionDenied, TransitionRefused, ValidationFailed
from engine.runtime import Runtime
from engine.store.models import AuditLog, Ticket, TicketEvent, User
from engine.ticket_queries import require_staff
from engine.ticket_states import ARCHIVED, NEW, next_status


def _locale(rt: Runtime, user: User) -> str:
    return user.locale or rt.catalog.policies.default_locale


def _refused(rt: Runtime, agent: User, key: str, **params) -> TransitionRefused:
    return TransitionRefused(rt.catalog.text(_locale(rt, agent), "validation", key, **params), code=key)


def _taken_by(rt: Runtime, agent: User, ticket: Ticket) -> TransitionRefused:
    """Someone else has the ticket: say who (the clear answer to a lost race)."""
    holder = User.get_or_none(User.id == ticket.assignee_id) if ticket.assignee_id else None
    if holder is None:  # the status moved on instead (archived meanwhile)
        return _refused(rt, agent, "transition_refused")
    return _refused(rt, agent, "ticket_taken_by", name=holder.name or holder.email)


def _record(ticket: Ticket, actor: User, kind: str, old, new, reason: str, now) -> None:
    TicketEvent.create(ticket=ticket, actor=actor, kind=kind, old=None if old is None else str(old),
                       new="" if new is None else str(new), reason=reason, at=now)
    AuditLog.create(actor=actor, action=kind if kind != "assignee" else "assign",
                    detail={"ticket": ticket.number, "old": old, "new": new, "reason": reason})


def _refresh(ticket: Ticket) -> Ticket:
    ticket.__data__.update(Ticket.get_by_id(ticket.id).__data__)
    return ticket


def take_ticket(rt: Runtime, ticket: Ticket, agent: User) -> Ticket:
    """Assign an unassigned ticket to `agent`; a new one moves to waiting_support too. Refused with who has it when
    someone else took it first (also in a race: the UPDATE requires the ticket still unassigned)."""
    require_staff(agent)
    current = Ticket.get_by_id(ticket.id)
    if current.assignee_id is not None:
        raise _taken_by(rt, agent, current) if current.assignee_id != agent.id else _refused(rt, agent, "transition_refused")
    status = next_status(rt.catalog, current.status, "take", _locale(rt, agent)) if current.status == NEW else current.status
    if status == ARCHIVED:
        raise _refused(rt, agent, "ticket_archived")
    with rt.db.atomic():
        now = rt.clock()
        won = Ticket.update(assignee=agent, status=status, updated_at=now).where(
            (Ticket.id == ticket.id) & Ticket.assignee.is_null() & (Ticket.status == current.status)).execute()
        if won != 1:
            raise _taken_by(rt, agent, Ticket.get_by_id(ticket.id))
        if status != current.status:
            TicketEvent.create(ticket=current, actor=agent, kind="status", old=current.status, new=status, reason="take", at=now)
        _record(current, agent, "assignee", None, agent.id, "take", now)
    return _refresh(ticket)


def assign_ticket(rt: Runtime, ticket: Ticket, actor: User, assignee: User | None) -> Ticket:
    """Give the ticket to a colleague (a member of its team, when it has one), or to nobody (`assignee` None)."""
    require_staff(actor)
    current = Ticket.get_by_id(ticket.id)
    if current.status == ARCHIVED:
        raise _refused(rt, actor, "ticket_archived")
    if assignee is not None:
        if not (assignee.is_staff and assignee.is_active):
            raise PermissionDenied("only an active agent or admin can be assigned")
        if current.team in rt.catalog.teams and not teams.is_member(rt.catalog, current.team, assignee):
            raise ValidationFailed({"assignee": rt.catalog.text(_locale(rt, actor), "validation", "not_team_member")})
    new_id = assignee.id if assignee is not None else None
    if current.assignee_id == new_id:
        return _refresh(ticket)
    with rt.db.atomic():
        now = rt.clock()
        moved = Ticket.update(assignee=new_id, updated_at=now).where(
            (Ticket.id == ticket.id) & _is(Ticket.assignee, current.assignee_id)).execute()
        if moved != 1:
            raise _refused(rt, actor, "transition_refused")
        _record(current, actor, "assignee", current.assignee_id, new_id, "assign" if new_id else "unassign", now)
    return _refresh(ticket)


def move_ticket(rt: Runtime, ticket: Ticket, actor: User, team_id: str) -> Ticket:
    """Move the ticket to another team of the config; an assignee who is not in it is unassigned. The new team is
    told (`team_ticket_created`), but not `actor`."""
    require_staff(actor)
    catalog = rt.catalog
    if team_id not in catalog.teams:
        raise NotFound(f"team {team_id!r}")
    current = Ticket.get_by_id(ticket.id)
    if current.status == ARCHIVED:
        raise _refused(rt, actor, "ticket_archived")
    if current.team == team_id:
        return _refresh(ticket)
    assignee = User.get_or_none(User.id == current.assignee_id) if current.assignee_id else None
    keep = assignee is not None and teams.is_member(catalog, team_id, assignee)
    sent: list[int] = []
    with rt.db.atomic():
        now = rt.clock()
        moved = Ticket.update(team=team_id, assignee=current.assignee_id if keep else None, updated_at=now).where(
            (Ticket.id == ticket.id) & _is(Ticket.team, current.team) & _is(Ticket.assignee, current.assignee_id)).execute()
        if moved != 1:
            raise _refused(rt, actor, "transition_refused")
        _record(current, actor, "team", current.team, team_id, "move", now)
        if assignee is not None and not keep:
            _record(current, actor, "assignee", assignee.id, None, "move", now)
        event = TicketEvent.select(TicketEvent.id).where(TicketEvent.ticket == current).order_by(TicketEvent.id.desc()).scalar()
        staff_notifications.new_in_team(catalog, _refresh(current), f"ticket:{current.id}:moved:{event}", sent, actor=actor)
    if sent:
        notify.enqueue_deliveries(rt, sent)
    return _refresh(ticket)


def _is(field, value):
    """`field = value`, or IS NULL for None (what the conditional UPDATEs expect the row still to hold)."""
    return field.is_null() if value is None else field == value

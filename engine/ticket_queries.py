"""Read side of tickets: what a customer or an agent may see, and how a ticket renders from its snapshot."""
from __future__ import annotations

from peewee import Case, prefetch

from engine.errors import NotFound, PermissionDenied
from engine.store.models import Attachment, Message, Ticket, User
from engine.ticket_states import ACTIVE_STATUSES, ARCHIVED, NEW, PRIORITIES, WAITING_SUPPORT


def require_staff(user: User) -> None:
    """Raise PermissionDenied unless `user` is an active agent or admin."""
    if not (user.is_staff and user.is_active):
        raise PermissionDenied("staff only")


def field_rows(ticket: Ticket) -> list[tuple[str, object]]:
    """(label, display value) of a ticket's submitted fields, in form order, from its snapshot."""
    rows = []
    for entry in ticket.snapshot.get("fields", []):
        if entry["id"] in ticket.fields:
            value = ticket.fields[entry["id"]]
            rows.append((entry["label"], entry.get("options", {}).get(value, value) if isinstance(value, str) else value))
    return rows


def field_values(ticket: Ticket) -> dict[str, object]:
    """Field id -> display value (a select's label) of a ticket's submitted fields, from its snapshot."""
    labels = {entry["id"]: entry.get("options", {}) for entry in ticket.snapshot.get("fields", [])}
    return {
        field_id: labels.get(field_id, {}).get(value, value) if isinstance(value, str) else value
        for field_id, value in ticket.fields.items()
    }


def _number(number) -> int | None:
    try:
        value = int(str(number).lstrip("#"))
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None


def customer_ticket(customer: User, number) -> Ticket:
    """The customer's own ticket by number; NotFound for a missing one and for someone else's alike."""
    value = _number(number)
    ticket = Ticket.get_or_none((Ticket.number == value) & (Ticket.customer == customer)) if value else None
    if ticket is None:
        raise NotFound(f"ticket #{number}")
    return ticket


def customer_tickets(customer: User, active: bool = True) -> list[Ticket]:
    """The customer's open tickets (active=True) or the archive, most recently updated first."""
    if active:
        query = Ticket.select().where((Ticket.customer == customer) & Ticket.status.in_(ACTIVE_STATUSES))
        return list(query.order_by(Ticket.updated_at.desc(), Ticket.id.desc()))
    query = Ticket.select().where((Ticket.customer == customer) & (Ticket.status == ARCHIVED))
    return list(query.order_by(Ticket.closed_at.desc(), Ticket.id.desc()))


def staff_ticket(staff: User, number) -> Ticket:
    """Any ticket by number, for agents and admins."""
    require_staff(staff)
    value = _number(number)
    ticket = Ticket.get_or_none(Ticket.number == value) if value else None
    if ticket is None:
        raise NotFound(f"ticket #{number}")
    return ticket


def staff_tickets(staff: User, statuses: tuple[str, ...] = (NEW, WAITING_SUPPORT), limit: int = 200,
                  category_id: str = "", topic_id: str = "") -> list[Ticket]:
    """The agents' queue: tickets in `statuses` (optionally of one category/topic), most urgent then oldest first."""
    require_staff(staff)
    urgency = Case(None, [(Ticket.priority == p, i) for i, p in enumerate(reversed(PRIORITIES))], len(PRIORITIES))
    where = Ticket.status.in_(statuses)
    if category_id:
        where &= Ticket.category_id == category_id
    if topic_id:
        where &= Ticket.topic_id == topic_id
    return list(Ticket.select().where(where).order_by(urgency, Ticket.updated_at).limit(limit))


def ticket_messages(ticket: Ticket, internal: bool = False) -> list[Message]:
    """A ticket's messages, oldest first, with their attachments prefetched; staff-only notes only with `internal`
    (the agent console): every customer-facing view calls this without it."""
    where = Message.ticket == ticket
    if not internal:
        where &= Message.internal == False  # noqa: E712 (SQL)
    messages = Message.select().where(where).order_by(Message.created_at, Message.id)
    return list(prefetch(messages, Attachment.select().where(Attachment.ticket == ticket)))


def ticket_attachment(ticket: Ticket, attachment_id) -> Attachment:
    """An attachment of this ticket (the caller has already checked who may see the ticket)."""
    try:
        attachment_id = int(attachment_id)
    except (TypeError, ValueError):
        raise NotFound("attachment") from None
    attachment = Attachment.get_or_none((Attachment.id == attachment_id) & (Attachment.ticket == ticket))
    if attachment is None:
        raise NotFound("attachment")
    return attachment

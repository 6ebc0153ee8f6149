"""Read side of tickets: what a customer or an agent may see, and how a ticket renders from its snapshot."""
from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from peewee import JOIN, fn, prefetch

from engine.catalog.texts import in_locale
from engine.errors import NotFound, PermissionDenied
from engine.pagination import PAGE_SIZE, Keyset, Page, paginate
from engine.store.models import Attachment, Message, Ticket, TicketEvent, User
from engine.ticket_states import ACTIVE_STATUSES, ARCHIVED, NEW, PRIORITIES, WAITING_SUPPORT

# Sort keys, each served by an index of migration 6 (engine/store/models.py declares them).
MY_TICKETS = Keyset((Ticket.updated_at, Ticket.id), descending=True)  # ticket (customer, status, updated_at, id)
MY_ARCHIVE = Keyset((Ticket.closed_at, Ticket.id), descending=True)  # ticket (customer, status, closed_at, id)
QUEUE = Keyset((Ticket.updated_at, Ticket.id))  # per priority and status, oldest first: ticket (status, priority, ...)
BY_BREACH = Keyset((Ticket.sla_due_at, Ticket.id))  # per status, soonest breach first (migration 11: ticket (status, sla_due_at, id))
SORTS = ("priority", "breach")  # the queue's orders: most urgent then oldest; soonest SLA breach (engine/sla.py)
CONVERSATION_PAGE = 30  # messages a ticket page shows first; earlier ones load on demand


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


def customer_ticket_page(customer: User, active: bool = True, after: str | None = None, before: str | None = None,
                         size: int = PAGE_SIZE) -> Page:
    """A page of the customer's open tickets (active=True, most recently updated first) or of the archive (newest
    closed first); `after`/`before` are the cursors of the page's next/previous links."""
    statuses = ACTIVE_STATUSES if active else (ARCHIVED,)
    keyset = MY_TICKETS if active else MY_ARCHIVE
    query = Ticket.select().where((Ticket.customer == customer) & Ticket.status.in_(statuses))
    return paginate(query, keyset, after, before, size,
                    groups=[[Ticket.status == s for s in statuses]])


def customer_tickets(customer: User, active: bool = True, limit: int = PAGE_SIZE) -> list[Ticket]:
    """The first `limit` of the customer's open tickets or of the archive, in the order of customer_ticket_page."""
    return customer_ticket_page(customer, active, size=limit).rows


def staff_ticket(staff: User, number) -> Ticket:
    """Any ticket by number, for agents and admins."""
    require_staff(staff)
    value = _number(number)
    ticket = Ticket.select(Ticket, User).join(User, on=Ticket.customer).where(Ticket.number == value).get_or_none() if value else None
    if ticket is None:
        raise NotFound(f"ticket #{number}")
    return ticket


def staff_ticket_page(staff: User, statuses: tuple[str, ...] = (NEW, WAITING_SUPPORT), category_id: str = "",
                      topic_id: str = "", after: str | None = None, before: str | None = None, size: int = PAGE_SIZE,
                      sort: str = "priority", teams: tuple[str, ...] | None = None, assignee: str = "") -> Page:
    """The agents' queue: tickets in `statuses` (optionally of one category/topic, of `teams`, assigned to the
    `assignee` "me" or to "nobody"), most urgent then oldest first (`sort="breach"`: the soonest SLA breach first,
    tickets without a running target last), a page at a time with its total; each row's customer and assignee are
    joined in (no query per row). Each team is a stream of its own: one range of the team indexes."""
    require_staff(staff)
    where = Ticket.status.in_(statuses)
    if category_id:
        where &= Ticket.category_id == category_id
    if topic_id:
        where &= Ticket.topic_id == topic_id
    where &= team_and_assignee(staff, teams, assignee)
    assignee_row = User.alias("assignee_user")
    query = (Ticket.select(Ticket, User, assignee_row).join(User, on=Ticket.customer).switch(Ticket)
             .join(assignee_row, JOIN.LEFT_OUTER, on=(Ticket.assignee == assignee_row.id), attr="assignee").where(where))
    by_team = [Ticket.team == team for team in teams] if teams else [None]
    if sort == "breach":
        return paginate(query, BY_BREACH, after, before, size, groups=[[_all(Ticket.status == s, t) for s in statuses for t in by_team]],
                        counted=Ticket.select().where(where))
    groups = [[_all((Ticket.priority == p), (Ticket.status == s), t) for s in statuses for t in by_team]
              for p in reversed(PRIORITIES)]
    return paginate(query, QUEUE, after, before, size, groups=groups,
                    counted=Ticket.select().where(where))


def team_and_assignee(user: User, teams: tuple[str, ...] | None = None, assignee: str = ""):
    """The condition "of one of `teams`" (None: any team) and "assigned to `user`" (`assignee` "me") or "to nobody"
    ("nobody"; "" any assignee), as the queue and the search filter by them."""
    where = Ticket.id.is_null(False)
    if teams is not None:
        where &= Ticket.team.in_(list(teams))
    if assignee == "me":
        where &= Ticket.assignee == user.id
    elif assignee == "nobody":
        where &= Ticket.assignee.is_null()
    return where


def _all(*conditions):
    return reduce(operator.and_, [c for c in conditions if c is not None])


def staff_tickets(staff: User, statuses: tuple[str, ...] = (NEW, WAITING_SUPPORT), limit: int = PAGE_SIZE,
                  category_id: str = "", topic_id: str = "", **filters) -> list[Ticket]:
    """The first `limit` tickets of the agents' queue (see staff_ticket_page)."""
    return staff_ticket_page(staff, statuses, category_id, topic_id, size=limit, **filters).rows


@dataclass(frozen=True)
class HistoryEntry:
    """One change of a ticket as the agent's page shows it; an assignee's old/new are display names."""

    at: datetime
    actor: str | None  # None: the system (auto-close)
    kind: str  # status | priority | team | assignee
    old: str | None
    new: str | None


def ticket_history(ticket: Ticket) -> list[HistoryEntry]:
    """Every status, priority, team and assignee change of a ticket, oldest first (two queries)."""
    events = list(TicketEvent.select(TicketEvent, User).join(User, JOIN.LEFT_OUTER, on=(TicketEvent.actor == User.id))
                  .where(TicketEvent.ticket == ticket).order_by(TicketEvent.id))
    ids = {int(v) for e in events if e.kind == "assignee" for v in (e.old, e.new) if v}
    names = {u.id: u.name or u.email for u in User.select(User.id, User.name, User.email).where(User.id.in_(list(ids)))} if ids else {}

    def shown(kind, value):
        return names.get(int(value), value) if kind == "assignee" and value else value or None

    return [HistoryEntry(e.at, (e.actor.name or e.actor.email) if e.actor_id else None, e.kind, shown(e.kind, e.old),
                         shown(e.kind, e.new)) for e in events]


def _with_authors(query):
    return query.select(Message, User).join(User, JOIN.LEFT_OUTER, on=(Message.author == User.id))


def _shown(where, internal: bool):
    """Staff-only notes stay out of every read unless `internal` (only the agent console passes it)."""
    return where if internal else where & (Message.internal == False)  # noqa: E712 (SQL)


def ticket_messages(ticket: Ticket, internal: bool = False) -> list[Message]:
    """All of a ticket's messages (with `internal`, its staff-only notes too), oldest first, with their authors joined
    and attachments prefetched."""
    messages = _with_authors(Message.select()).where(_shown(Message.ticket == ticket, internal)).order_by(Message.id)
    return list(prefetch(messages, Attachment.select().where(Attachment.ticket == ticket)))


def latest_messages(ticket: Ticket, before: int | None = None, size: int = CONVERSATION_PAGE,
                    internal: bool = False) -> tuple[list[Message], bool]:
    """The newest `size` messages (those before message id `before` when given; notes only with `internal`), oldest
    first, authors joined and attachments prefetched; and whether earlier ones exist. Index: message (ticket_id, id)."""
    query = _with_authors(Message.select()).where(_shown(Message.ticket == ticket, internal))
    if before is not None:
        query = query.where(Message.id < before)
    page = query.order_by(Message.id.desc()).limit(size + 1)
    rows = list(prefetch(page, Attachment.select().where(Attachment.ticket == ticket)))
    return rows[:size][::-1], len(rows) > size


def messages_after(ticket: Ticket, after: int, size: int = CONVERSATION_PAGE, internal: bool = False) -> list[Message]:
    """Up to `size` messages newer than message id `after` (notes only with `internal`), oldest first (what a poll appends)."""
    query = _with_authors(Message.select()).where(_shown((Message.ticket == ticket) & (Message.id > after), internal))
    return list(prefetch(query.order_by(Message.id).limit(size), Attachment.select().where(Attachment.ticket == ticket)))


def last_message_id(ticket: Ticket, internal: bool = False) -> int:
    """The newest message id of a ticket (0 for none; notes count only with `internal`): what a poll compares."""
    return Message.select(fn.MAX(Message.id)).where(_shown(Message.ticket == ticket, internal)).scalar() or 0


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


def ticket_titles(catalog, ticket: Ticket, locale: str) -> tuple[str, str]:
    """The ticket's topic and category titles in `locale` while the catalog still has them, else as the ticket's
    snapshot kept them."""
    topic = catalog.topic(f"{ticket.category_id}/{ticket.topic_id}")
    category = catalog.category(ticket.category_id)
    return (in_locale(topic.title, locale) if topic else ticket.snapshot.get("topic_title", ""),
            in_locale(category.title, locale) if category else ticket.snapshot.get("category_title", ""))

"""Read side of tickets: what a customer or an agent may see, and how a ticket renders from its snapshot."""
from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, reduce

from peewee import JOIN, fn, prefetch

from engine.catalog.texts import in_locale
from engine.errors import NotFound, PermissionDenied
from engine.pagination import PAGE_SIZE, Keyset, Page, PagedList
from engine.store.models import Attachment, Message, Ticket, TicketEvent, User
from engine.store.prepared import PreparedSelect, prepared_by_arity
from engine.ticket_states import ACTIVE_STATUSES, ARCHIVED, NEW, PRIORITIES, WAITING_SUPPORT

# Sort keys, each served by an index of migration 6 (engine/store/models.py declares them).
MY_TICKETS = Keyset((Ticket.updated_at, Ticket.id), descending=True)  # ticket (customer, status, updated_at, id)
MY_ARCHIVE = Keyset((Ticket.closed_at, Ticket.id), descending=True)  # ticket (customer, status, closed_at, id)
QUEUE = Keyset((Ticket.updated_at, Ticket.id))  # per priority and status, oldest first: ticket (status, priority, ...)
BY_BREACH = Keyset((Ticket.sla_due_at, Ticket.id))  # per status, soonest breach first (migration 11: ticket (status, sla_due_at, id))
SORTS = ("priority", "breach")  # the queue's orders: most urgent then oldest; soonest SLA breach (engine/sla.py)
# The columns a list row carries: what the lists show (the web's, the bot's) and sort by. Not the submitted values
# (`fields`: JSON of any size, decoded per row) nor what only a ticket's own page shows; those read as None on a row.
LIST_COLUMNS = tuple(f for f in Ticket._meta.sorted_fields
                     if f.name not in ("fields", "idempotency_key", "channel", "closed_reason", "created_at",
                                       "waiting_since"))
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


_CUSTOMER_TICKET = PreparedSelect(lambda number, customer_id: (
    Ticket.select().where((Ticket.number == number) & (Ticket.customer == customer_id)).limit(1)), arity=2)


def customer_ticket(customer: User, number) -> Ticket:
    """The customer's own ticket by number; NotFound for a missing one and for someone else's alike."""
    value = _number(number)
    ticket = _CUSTOMER_TICKET.first(value, customer.id) if value else None
    if ticket is None:
        raise NotFound(f"ticket #{number}")
    return ticket


def _customer_list(statuses: tuple[str, ...], keyset: Keyset) -> PagedList:
    def build(customer_id):
        query = Ticket.select(*LIST_COLUMNS).where((Ticket.customer == customer_id) & Ticket.status.in_(statuses))
        return query, [[Ticket.status == s for s in statuses]], None
    return PagedList(build, keyset, arity=1)


_MY_TICKETS = _customer_list(ACTIVE_STATUSES, MY_TICKETS)
_MY_ARCHIVE = _customer_list((ARCHIVED,), MY_ARCHIVE)


def customer_ticket_page(customer: User, active: bool = True, after: str | None = None, before: str | None = None,
                         size: int = PAGE_SIZE) -> Page:
    """A page of the customer's open tickets (active=True, most recently updated first) or of the archive (newest
    closed first); `after`/`before` are the cursors of the page's next/previous links. Rows carry LIST_COLUMNS."""
    return (_MY_TICKETS if active else _MY_ARCHIVE).page(customer.id, after=after, before=before, size=size)


def customer_tickets(customer: User, active: bool = True, limit: int = PAGE_SIZE) -> list[Ticket]:
    """The first `limit` of the customer's open tickets or of the archive, in the order of customer_ticket_page."""
    return customer_ticket_page(customer, active, size=limit).rows


_STAFF_TICKET = PreparedSelect(lambda number: (
    Ticket.select(Ticket, User).join(User, on=Ticket.customer).where(Ticket.number == number).limit(1)), arity=1)


def staff_ticket(staff: User, number) -> Ticket:
    """Any ticket by number, for agents and admins."""
    require_staff(staff)
    value = _number(number)
    ticket = _STAFF_TICKET.first(value) if value else None
    if ticket is None:
        raise NotFound(f"ticket #{number}")
    return ticket


def staff_ticket_page(staff: User, statuses: tuple[str, ...] = (NEW, WAITING_SUPPORT), category_id: str = "",
                      topic_id: str = "", after: str | None = None, before: str | None = None, size: int = PAGE_SIZE,
                      sort: str = "priority", teams: tuple[str, ...] | None = None, assignee: str = "") -> Page:
    """The agents' queue: tickets in `statuses` (optionally of one category/topic, of `teams`, assigned to the
    `assignee` "me" or to "nobody"), most urgent then oldest first (`sort="breach"`: the soonest SLA breach first,
    tickets without a running target last), a page at a time with its total; each row's customer and assignee are
    joined in (no query per row; their id, name and email: what the queue shows); rows carry LIST_COLUMNS. Each team
    is a stream of its own: one range of the team indexes."""
    require_staff(staff)
    values = [v for v in (category_id, topic_id) if v] + list(teams or ()) + ([staff.id] if assignee == "me" else [])
    queue = _queue(tuple(statuses), bool(category_id), bool(topic_id), None if teams is None else len(teams), assignee,
                   sort)
    return queue.page(*values, after=after, before=before, size=size)


@lru_cache(maxsize=256)
def _queue(statuses: tuple[str, ...], by_category: bool, by_topic: bool, teams: int | None, assignee: str,
           sort: str) -> PagedList:
    """The queue's statements for one combination of filters (their values are the markers: category, topic, the
    teams, the agent for "me", in this order)."""
    def build(*markers):
        markers = list(markers)
        where = Ticket.status.in_(statuses)
        if by_category:
            where &= Ticket.category_id == markers.pop(0)
        if by_topic:
            where &= Ticket.topic_id == markers.pop(0)
        chosen = None if teams is None else [markers.pop(0) for _ in range(teams)]
        where &= _team_and_assignee(markers.pop(0) if assignee == "me" else None, chosen, assignee)
        assignee_row = User.alias("assignee_user")
        shown = [User.id, User.name, User.email, assignee_row.id, assignee_row.name, assignee_row.email]
        query = (Ticket.select(*LIST_COLUMNS, *shown).join(User, on=Ticket.customer).switch(Ticket)
                 .join(assignee_row, JOIN.LEFT_OUTER, on=(Ticket.assignee == assignee_row.id), attr="assignee")
                 .where(where))
        by_team = [Ticket.team == team for team in chosen] if chosen else [None]
        if sort == "breach":
            groups = [[_all(Ticket.status == s, t) for s in statuses for t in by_team]]
        else:
            groups = [[_all((Ticket.priority == p), (Ticket.status == s), t) for s in statuses for t in by_team]
                      for p in reversed(PRIORITIES)]
        return query, groups, Ticket.select().where(where)

    arity = by_category + by_topic + (teams or 0) + (assignee == "me")
    return PagedList(build, BY_BREACH if sort == "breach" else QUEUE, arity)


def team_and_assignee(user: User, teams: tuple[str, ...] | None = None, assignee: str = ""):
    """The condition "of one of `teams`" (None: any team) and "assigned to `user`" (`assignee` "me") or "to nobody"
    ("nobody"; "" any assignee), as the queue and the search filter by them."""
    return _team_and_assignee(user.id, teams, assignee)


def _team_and_assignee(user_id, teams, assignee: str):
    where = Ticket.id.is_null(False)
    if teams is not None:
        where &= Ticket.team.in_(list(teams))
    if assignee == "me":
        where &= Ticket.assignee == user_id
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


_EVENTS = PreparedSelect(lambda ticket_id: (
    TicketEvent.select(TicketEvent, User).join(User, JOIN.LEFT_OUTER, on=(TicketEvent.actor == User.id))
    .where(TicketEvent.ticket == ticket_id).order_by(TicketEvent.id)), arity=1)
_NAMES = prepared_by_arity(lambda *ids: User.select(User.id, User.name, User.email).where(User.id.in_(list(ids))))


def ticket_history(ticket: Ticket) -> list[HistoryEntry]:
    """Every status, priority, team and assignee change of a ticket, oldest first (two queries)."""
    events = _EVENTS.all(ticket.id)
    ids = list({int(v) for e in events if e.kind == "assignee" for v in (e.old, e.new) if v})
    names = {u.id: u.name or u.email for u in _NAMES(len(ids)).all(*ids)} if ids else {}

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
    values = (ticket.id,) if before is None else (ticket.id, before)
    rows = _with_attachments(ticket, _conversation_statement(size + 1, internal, before is not None, False).all(*values))
    return rows[:size][::-1], len(rows) > size


def messages_after(ticket: Ticket, after: int, size: int = CONVERSATION_PAGE, internal: bool = False) -> list[Message]:
    """Up to `size` messages newer than message id `after` (notes only with `internal`), oldest first (what a poll appends)."""
    return _with_attachments(ticket, _conversation_statement(size, internal, True, True).all(ticket.id, after))


@lru_cache(maxsize=64)
def _conversation_statement(limit: int, internal: bool, bounded: bool, newer: bool) -> PreparedSelect:
    """Messages of a ticket with their authors, up to `limit`: the newest first, or with `bounded` those before a
    message id (`newer`: those after it, oldest first)."""
    def build(ticket_id, *bound):
        query = _with_authors(Message.select()).where(_shown(Message.ticket == ticket_id, internal))
        if bounded:
            query = query.where(Message.id > bound[0] if newer else Message.id < bound[0])
        return query.order_by(Message.id if newer else Message.id.desc()).limit(limit)
    return PreparedSelect(build, 1 + bounded)


_PAGE_ATTACHMENTS = PreparedSelect(lambda ticket_id, first, last: (
    Attachment.select().where((Attachment.ticket == ticket_id) & Attachment.message.between(first, last))
    .order_by(Attachment.id)), arity=3)


def _with_attachments(ticket: Ticket, messages: list[Message]) -> list[Message]:
    """`messages` (of `ticket`), each with its `attachments` list as peewee's prefetch fills it, in one query over
    the page's range of message ids."""
    by_id = {message.id: message for message in messages}
    for message in messages:
        message.attachments = []
    if by_id:
        for attachment in _PAGE_ATTACHMENTS.all(ticket.id, min(by_id), max(by_id)):
            if attachment.message_id in by_id:  # a note's file in the range of a customer's page stays out
                by_id[attachment.message_id].attachments.append(attachment)
    return messages


_LAST_MESSAGE_ID = {internal: PreparedSelect(lambda ticket_id, internal=internal: (
    Message.select(fn.MAX(Message.id)).where(_shown(Message.ticket == ticket_id, internal))), arity=1)
    for internal in (False, True)}


def last_message_id(ticket: Ticket, internal: bool = False) -> int:
    """The newest message id of a ticket (0 for none; notes count only with `internal`): what a poll compares."""
    return _LAST_MESSAGE_ID[internal].scalar(ticket.id) or 0


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

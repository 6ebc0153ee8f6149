"""Ticket lifecycle: create, reply, archive, priority, auto-close; every change writes its outbox rows in one transaction."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Iterable

from peewee import IntegrityError, fn

from engine import counters, enqueue, notify as notify_module, sla, staff_notifications, timers
from engine.assignment import assign_ticket, move_ticket, take_ticket  # noqa: F401 (the staff side of the API)
from engine.attachments import Upload
from engine.catalog import Catalog
from engine.catalog.catalog import Topic
from engine.catalog.durations import parse_duration
from engine.channel_registry import registry
from engine.errors import NotFound, PermissionDenied, TransitionRefused, ValidationFailed
from engine.form_session import reply_fields
from engine.forms import clean_field, validate_submission
from engine.runtime import Runtime
from engine.store.migrations import FIRST_TICKET_NUMBER, TICKET_COUNTER
from engine.store.models import NO_DEADLINE, Attachment, AuditLog, Counter, Message, Ticket, TicketEvent, Timer, User
from engine.store.prepared import PreparedSelect, PreparedWrite, create
# The read side lives in ticket_queries; re-exported because engine.tickets is the API the edges call.
from engine.ticket_notifications import base_params, params_of
from engine.ticket_queries import (  # noqa: F401
    customer_ticket, customer_ticket_page, customer_tickets, field_rows, last_message_id, latest_messages, messages_after,
    require_staff, staff_ticket, staff_ticket_page, staff_tickets, ticket_attachment, ticket_history, ticket_messages,
    ticket_titles,
)
from engine.ticket_states import ARCHIVED, NEW, PRIORITIES, WAITING_CUSTOMER, next_status
from engine.timers import NOTHING, Fired, TimerKind

CREATE_ATTEMPTS = 3  # retries when a concurrent creator of the same idempotency key or counter row won
UPDATE_ATTEMPTS = 3  # retries when the status changed between our read and our conditional update
RESERVED = ("subject", "message")
SUBJECT_MAX = Ticket.subject.max_length  # a config may allow a longer subject field than the column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class _Raced(Exception):
    """A conditional update matched no row: someone changed the ticket first; decide again."""


# --- outbox -------------------------------------------------------------------------------


def _notify(catalog: Catalog, user: User, type_id: str, ticket: Ticket, key: str, sent: list[int],
            skip_channels: tuple[str, ...] = (), **params) -> None:
    """Write a notification if the catalog defines `type_id`; only the params the type declares are passed."""
    spec = catalog.notification_types.get(type_id)
    if spec is None:
        return
    topic, category = ticket_titles(catalog, ticket, user.locale or catalog.policies.default_locale)
    base = {**base_params(ticket), "topic": topic, "category": category, **params}
    assert set(base) == set(params_of(type_id)), f"{type_id}: update engine/ticket_notifications.py"
    declared = {k: v for k, v in base.items() if k in spec.params}
    sent.append(notify_module.notify(catalog, user, type_id, declared, ticket=ticket, idempotency_key=key,
                                     skip_channels=skip_channels).id)


def _enqueue(rt: Runtime, notification_ids: list[int], timers: Iterable[Timer] = (), along=None) -> None:
    """Hand committed outbox rows and timers to the queue, in two Redis round trips (the sweep covers a Redis outage);
    `along`: commands for the first one (engine.enqueue.enqueue_jobs)."""
    rows = [row for chunk in notify_module.pending_deliveries(notification_ids) for row in chunk] if notification_ids else []
    enqueue.enqueue_jobs(rt, rows, timers, along=along)


# --- creation -----------------------------------------------------------------------------


def snapshot_for(catalog: Catalog, topic: Topic) -> dict:
    """What a ticket needs to render after its topic is renamed or removed from the config."""
    category = catalog.category(topic.category_id)
    fields = []
    for f in catalog.form_for(topic).fields:
        entry = {"id": f.id, "label": f.label, "type": f.type}
        if f.options:
            entry["options"] = {o.value: o.label or o.value for o in f.options}
        fields.append(entry)
    return {
        "catalog_version": catalog.version,
        "category_title": category.title if category else topic.category_id,
        "topic_title": topic.title,
        "priority_hint": topic.priority,
        "form_id": topic.form_id,
        "fields": fields,
    }


def _idempotency_key(key: str | None) -> str | None:
    """Keys longer than the column are replaced by their SHA-256, never cut (two keys must not collide)."""
    if key is None or len(key) <= Ticket.idempotency_key.max_length:
        return key
    return hashlib.sha256(key.encode()).hexdigest()


def _require_active(user: User) -> None:
    if not user.is_active:
        raise PermissionDenied("account disabled")


def _next_number() -> int:
    """Increment the counter row; inside the creating transaction its lock makes concurrent creators take turns."""
    row = _INCREMENT.execute(TICKET_COUNTER).fetchone()
    if row is not None:
        return row[0]
    # A database built without migrations (create_tables): start the counter from the tickets present.
    top = Ticket.select(fn.MAX(Ticket.number)).scalar()
    return Counter.create(name=TICKET_COUNTER, value=(top or FIRST_TICKET_NUMBER - 1) + 1).value


_INCREMENT = PreparedWrite(lambda name: Counter.update(value=Counter.value + 1).where(Counter.name == name)
                           .returning(Counter.value), arity=1)
_BY_KEY = PreparedSelect(lambda customer_id, key: Ticket.select().where(
    (Ticket.customer == customer_id) & (Ticket.idempotency_key == key)), arity=2)


def _store_files(rt: Runtime, uploads: list[Upload]) -> list[tuple[Upload, str]]:
    """Write checked files to the blob store before the transaction (content-addressed, so retries are harmless).

    Storage that cannot be reached raises StorageUnavailable here, before anything is written to the database.
    """
    return [(u, rt.blobs.put(u.data)) for u in uploads]


def _attach(ticket: Ticket, message: Message, stored: list[tuple[Upload, str]]) -> None:
    for upload, sha in stored:
        create(Attachment, ticket=ticket, message=message, sha256=sha, original_name=upload.filename,
               content_type=upload.content_type or "application/octet-stream", size=upload.size)


def create_ticket(rt: Runtime, customer: User, topic_key: str, values: dict, uploads, channel: str,
                  idempotency_key: str | None = None, locale: str | None = None) -> Ticket:
    """Validate and create a ticket with its first message, files and outbox rows; a repeated key returns the first."""
    if customer.is_staff or not customer.is_active:
        raise PermissionDenied("only an active customer account can create tickets")
    idempotency_key = _idempotency_key(idempotency_key)
    if idempotency_key:
        existing = _BY_KEY.first(customer.id, idempotency_key)
        if existing:
            return existing
    catalog = rt.catalog
    topic = catalog.topic(topic_key)
    installed = registry.get(channel)  # None: a caller that is no installed channel (an import, a test)
    if topic is None or (installed is not None and channel not in topic.channels):
        raise NotFound(f"topic {topic_key!r}")
    locale = locale or customer.locale or catalog.policies.default_locale
    form = catalog.form_for(topic)
    clean, errors = validate_submission(catalog, form, values, uploads, locale)
    if errors:
        raise ValidationFailed(errors)
    files = [u for f in form.fields if f.type == "attachments" for u in clean.get(f.id, [])]
    stored = _store_files(rt, files)
    field_values = {k: v for k, v in clean.items() if k not in RESERVED and form.field(k).type != "attachments"}
    snapshot = snapshot_for(catalog, topic)
    subject = (clean.get("subject") or topic.title)[:SUBJECT_MAX]
    team = catalog.routing.route(topic.category_id, topic.id, topic.priority, field_values)
    for attempt in range(CREATE_ATTEMPTS):
        sent: list[int] = []
        try:
            with rt.db.atomic():
                now = rt.clock()
                targets = sla.plan(catalog, topic.category_id, topic.id, topic.priority, now)
                ticket = create(
                    Ticket, number=_next_number(), customer=customer, category_id=topic.category_id, topic_id=topic.id,
                    priority=topic.priority, status=NEW, subject=subject, fields=field_values, snapshot=snapshot,
                    channel=channel, idempotency_key=idempotency_key, created_at=now, updated_at=now, team=team,
                    sla_due_at=targets.due_at if targets else NO_DEADLINE,
                )
                body = clean.get("message", "")
                message = create(Message, ticket=ticket, author=customer, author_kind="customer", channel=channel,
                                 body=body, created_at=now)
                _attach(ticket, message, stored)
                create(TicketEvent, ticket=ticket, actor=customer, kind="status", old=None, new=NEW, reason="created", at=now)
                scheduled = sla.start(catalog, ticket, now, targets)
                # A channel that confirms its tickets itself (the bot) would echo a ticket_created message.
                _notify(catalog, customer, "ticket_created", ticket, f"ticket:{ticket.id}:created", sent,
                        skip_channels=(channel,) if installed is not None and installed.confirms_tickets else ())
                staff_notifications.new_in_team(catalog, ticket, f"ticket:{ticket.id}:created", sent, first_message=body)
            break
        except IntegrityError:
            if idempotency_key:
                existing = _BY_KEY.first(customer.id, idempotency_key)
                if existing:
                    return existing
            if attempt == CREATE_ATTEMPTS - 1:
                raise
    # The event counter rides along (dropped in a Redis outage, as `counters.count` drops it).
    _enqueue(rt, sent, scheduled, along=lambda pipe: counters.count_in(pipe, "tickets_created", channel=channel))
    return ticket


# --- replies and transitions --------------------------------------------------------------


def _move(ticket: Ticket, old: str, new: str, **changes) -> None:
    """Conditional UPDATE: applies only if the ticket is still in `old`; otherwise raises _Raced."""
    changes["updated_at"] = changes.get("updated_at") or utcnow()
    updated = Ticket.update(status=new, **changes).where((Ticket.id == ticket.id) & (Ticket.status == old)).execute()
    if updated != 1:
        raise _Raced()


def _event(ticket: Ticket, actor: User | None, old: str, new: str, reason: str, now: datetime) -> None:
    if old != new:
        TicketEvent.create(ticket=ticket, actor=actor, kind="status", old=old, new=new, reason=reason[:32], at=now)


def _acting_on(rt: Runtime, ticket: Ticket, actor: User) -> tuple[bool, Catalog, str]:
    """Check `actor` may act on `ticket` (staff, or its own customer); return (is staff, catalog, locale)."""
    _require_active(actor)
    if not actor.is_staff and ticket.customer_id != actor.id:
        raise NotFound(f"ticket #{ticket.number}")
    catalog = rt.catalog
    return actor.is_staff, catalog, actor.locale or catalog.policies.default_locale


def add_reply(rt: Runtime, ticket: Ticket, author: User, body: str, uploads, channel: str) -> Message:
    """Add a customer or staff message (by the author's role); moves the status and writes the outbox."""
    staff, catalog, locale = _acting_on(rt, ticket, author)
    body_field, files_field = reply_fields(catalog)
    text, body_error = clean_field(catalog, body_field, body, locale)
    files, files_error = clean_field(catalog, files_field, list(uploads or []), locale)
    errors = {k: v for k, v in (("message", body_error), ("attachments", files_error)) if v}
    if not errors and not text and not files:
        errors["message"] = catalog.text(locale, "validation", "required")
    if errors:
        raise ValidationFailed(errors)
    stored = _store_files(rt, files)
    action = "staff_reply" if staff else "customer_reply"
    for attempt in range(UPDATE_ATTEMPTS):
        current = Ticket.get_by_id(ticket.id)
        new = next_status(catalog, current.status, action, locale)
        sent: list[int] = []
        try:
            with rt.db.atomic():
                now = rt.clock()
                _move(current, current.status, new, updated_at=now, waiting_since=now if staff else None)
                scheduled = _start_waiting(catalog, current, now) if staff else []
                if not staff:
                    _stop_waiting(current, now)
                scheduled += sla.on_change(catalog, current, current.status, new, now, staff_replied=staff)
                message = Message.create(ticket=current, author=author, author_kind="agent" if staff else "customer",
                                         channel=channel, body=text or "", created_at=now)
                _attach(current, message, stored)
                _event(current, author, current.status, new, action, now)
                if staff:
                    current.status = new
                    _notify(catalog, current.customer, "support_reply", current, f"message:{message.id}", sent,
                            reply=message.body)
                    AuditLog.create(actor=author, action="staff_reply", detail={"ticket": current.number, "message": message.id})
                else:
                    staff_notifications.customer_replied(catalog, current, message, sent)
            break
        except _Raced:
            if attempt == UPDATE_ATTEMPTS - 1:
                raise TransitionRefused(catalog.text(locale, "validation", "transition_refused"), code="raced")
    _enqueue(rt, sent, scheduled)
    _refresh(ticket)
    return message


def _refresh(ticket: Ticket) -> None:
    """Bring the caller's Ticket object up to date after a change made through a conditional UPDATE."""
    fresh = Ticket.get_by_id(ticket.id)
    ticket.__data__.update(fresh.__data__)


def archive_ticket(rt: Runtime, ticket: Ticket, actor: User, reason: str = "") -> Ticket:
    """Archive by the customer (own ticket) or staff; staff archiving notifies the customer."""
    staff, catalog, locale = _acting_on(rt, ticket, actor)
    current = Ticket.get_by_id(ticket.id)
    new = next_status(catalog, current.status, "archive", locale)
    sent: list[int] = []
    try:
        with rt.db.atomic():
            now = rt.clock()
            _move(current, current.status, new, updated_at=now, closed_reason="staff" if staff else "customer",
                  closed_at=now, waiting_since=None)
            _stop_waiting(current, now)
            sla.on_change(catalog, current, current.status, new, now)
            _event(current, actor, current.status, new, reason or ("staff" if staff else "customer"), now)
            if staff:
                current.status = new
                _notify(catalog, current.customer, "ticket_archived", current, f"ticket:{current.id}:archived", sent,
                        reason=reason)
                AuditLog.create(actor=actor, action="archive", detail={"ticket": current.number, "reason": reason})
    except _Raced:
        raise TransitionRefused(catalog.text(locale, "validation", "transition_refused"), code="raced") from None
    _enqueue(rt, sent)
    _refresh(ticket)
    return ticket


def set_priority(rt: Runtime, ticket: Ticket, agent: User, priority: str) -> Ticket:
    """Staff changes the priority; recorded as an event and in the audit log."""
    require_staff(agent)
    if priority not in PRIORITIES:
        locale = agent.locale or rt.catalog.policies.default_locale
        raise ValidationFailed({"priority": rt.catalog.text(locale, "validation", "not_priority")})
    with rt.db.atomic():
        old = Ticket.get_by_id(ticket.id).priority
        if old != priority:
            Ticket.update(priority=priority, updated_at=utcnow()).where(Ticket.id == ticket.id).execute()
            TicketEvent.create(ticket=ticket, actor=agent, kind="priority", old=old, new=priority, reason="staff")
            AuditLog.create(actor=agent, action="priority", detail={"ticket": ticket.number, "old": old, "new": priority})
    _refresh(ticket)
    return ticket


# --- timers: auto-close and its reminder ---------------------------------------------------
# Two timer kinds (engine/timers.py; engine/timer_kinds.py lists them). A staff reply schedules both, a customer reply
# or an archive cancels them, inside the transaction that moves the ticket (after its row is locked by the UPDATE).

AUTO_CLOSE = "autoclose"  # Timer.kind values; also the prefix of their RQ job ids
REMIND = "remind"
WAITING_KINDS = (REMIND, AUTO_CLOSE)


def _start_waiting(catalog: Catalog, ticket: Ticket, now: datetime) -> list[Timer]:
    """(Re)start the auto-close and reminder timers of a ticket that waits for the customer from `now` on."""
    _stop_waiting(ticket, now)
    policy = catalog.policies.auto_close
    if not policy.after:
        return []
    close_at = now + parse_duration(policy.after)
    scheduled = [timers.schedule(AUTO_CLOSE, ticket, close_at, now)]
    remind_at = close_at - parse_duration(policy.reminder_before) if policy.reminder_before else None
    if remind_at and remind_at > now:
        scheduled.append(timers.schedule(REMIND, ticket, remind_at, now, payload={"auto_close_at": close_at.isoformat()}))
    return scheduled


def _stop_waiting(ticket: Ticket, now: datetime) -> None:
    """Cancel the ticket's auto-close and reminder: it no longer waits for the customer."""
    timers.cancel(WAITING_KINDS, ticket, now)


def _auto_close(rt: Runtime, timer: Timer, now: datetime) -> Fired:
    """Archive a ticket still waiting for the customer; ONE conditional UPDATE, so a reply that won keeps it open."""
    sent: list[int] = []
    closed = Ticket.update(status=ARCHIVED, closed_reason="auto", closed_at=now, updated_at=now, waiting_since=None).where(
        (Ticket.id == timer.ticket_id) & (Ticket.status == WAITING_CUSTOMER)
    ).execute()
    if not closed:
        return NOTHING
    ticket = Ticket.get_by_id(timer.ticket_id)
    _stop_waiting(ticket, now)
    sla.on_change(rt.catalog, ticket, WAITING_CUSTOMER, ARCHIVED, now)
    TicketEvent.create(ticket=ticket, actor=None, kind="status", old=WAITING_CUSTOMER, new=ARCHIVED, reason="auto_close", at=now)
    _notify(rt.catalog, ticket.customer, "ticket_auto_closed", ticket, f"ticket:{ticket.id}:auto_closed", sent)
    return Fired(after_commit=lambda: _enqueue(rt, sent))


def _remind(rt: Runtime, timer: Timer, now: datetime) -> Fired:
    """Remind the customer once that the ticket closes soon, if it still waits for them and the close is ahead."""
    close_at = datetime.fromisoformat(timer.payload["auto_close_at"])
    ticket = Ticket.get_or_none((Ticket.id == timer.ticket_id) & (Ticket.status == WAITING_CUSTOMER))
    if ticket is None or close_at <= now:
        return NOTHING
    sent: list[int] = []
    _notify(rt.catalog, ticket.customer, "auto_close_reminder", ticket, f"ticket:{ticket.id}:reminder:{close_at.isoformat()}",
            sent, auto_close_at=close_at.isoformat())
    return Fired(after_commit=lambda: _enqueue(rt, sent))


AUTO_CLOSE_KIND = TimerKind(AUTO_CLOSE, _auto_close)
REMIND_KIND = TimerKind(REMIND, _remind)

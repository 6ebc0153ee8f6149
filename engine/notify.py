"""Notifications: type x customer preferences -> Notification + outbox Delivery rows, then best-effort enqueue."""
from __future__ import annotations

import logging
from collections import namedtuple
from datetime import datetime, timezone
from typing import Iterator

from peewee import JOIN, SQL, chunked, fn

from engine import live_cache
from engine.catalog import Catalog
from engine.channel_registry import registry
from engine.enqueue import enqueue_delivery_rows
from engine.pagination import PAGE_SIZE, Keyset, Page, paginate
from engine.store.models import Delivery, Notification, NotificationPreference, Ticket, User
from engine.store.prepared import PreparedSelect, create
from engine.ticket_notifications import STAFF_NOTIFICATIONS

log = logging.getLogger(__name__)


def channel_kinds() -> tuple[str, ...]:
    """The installed channel kinds, in registration order: the columns of the settings matrix."""
    return registry.kinds()


def _explicit(user: User) -> dict[tuple[str, str], bool]:
    query = NotificationPreference.select().where(NotificationPreference.user == user)
    return {(p.type_id, p.channel): p.enabled for p in query}


def enabled_channels(catalog: Catalog, user: User, type_id: str) -> set[str]:
    """Channels the user gets `type_id` on: explicit preferences over the type's default_channels."""
    channels = set(catalog.notification_types[type_id].default_channels)
    for channel, enabled in _CHOICES.all(user.id, type_id):
        (channels.add if enabled else channels.discard)(channel)
    return channels


_CHOICES = PreparedSelect(lambda user_id, type_id: NotificationPreference.select(
    NotificationPreference.channel, NotificationPreference.enabled).where(
    (NotificationPreference.user == user_id) & (NotificationPreference.type_id == type_id)).tuples(), arity=2)


def offered_types(catalog: Catalog, user: User) -> dict:
    """Type id -> spec of the types the user's settings matrix lists: staff-only ones (SLA, `source: staff`) for
    staff only; account emails are not optional."""
    return {type_id: spec for type_id, spec in catalog.notification_types.items()
            if spec.source != "account" and (user.is_staff or (type_id not in STAFF_NOTIFICATIONS and spec.source != "staff"))}


def preferences(catalog: Catalog, user: User) -> dict[str, dict[str, bool]]:
    """Every notification type the user may get -> {channel: enabled} for the settings page (defaults filled in);
    staff-only types (SLA) for staff only."""
    explicit = _explicit(user)
    return {
        type_id: {
            channel: explicit.get((type_id, channel), channel in spec.default_channels) for channel in registry.kinds()
        }
        for type_id, spec in offered_types(catalog, user).items() if spec.source != "account"  # not optional
    }



def set_preferences(user: User, choices: dict[str, dict[str, bool]]) -> None:
    """Store explicit per-type, per-channel choices (unknown channels are ignored)."""
    with NotificationPreference._meta.database.atomic():
        for type_id, channels in choices.items():
            for channel, enabled in channels.items():
                if registry.get(channel) is None:
                    continue
                NotificationPreference.insert(user=user, type_id=type_id, channel=channel, enabled=bool(enabled)).on_conflict(
                    conflict_target=[NotificationPreference.user, NotificationPreference.type_id, NotificationPreference.channel],
                    update={NotificationPreference.enabled: bool(enabled)},
                ).execute()


def notify(catalog: Catalog, user: User, type_id: str, params: dict, *, ticket=None, idempotency_key: str | None = None,
           skip_channels: tuple[str, ...] = ()) -> Notification:
    """Write a notification and its outbox rows; call inside the transaction of the change that caused it.

    `skip_channels`: channels that already told the person (the bot that just confirmed their ticket).
    """
    channels = enabled_channels(catalog, user, type_id) - set(skip_channels)
    notification = create(
        Notification, user=user, type_id=type_id, params=params, ticket=ticket, idempotency_key=idempotency_key,
        # An in-app channel (the portal's list) is the row itself, hidden when switched off.
        in_app=any(channel.in_app for channel in registry.all() if channel.kind in channels),
    )
    if notification.in_app:
        unread_changed(user)
    rows = []
    for channel in registry.all():
        if channel.kind in channels:
            targets = channel.targets(catalog, user, type_id, about_ticket=ticket is not None)
            rows += [{"channel": channel.kind, "target": target, "notification": notification.id} for target in targets]
    _outbox(rows)
    return notification


def _outbox(rows: list[dict]) -> None:
    """Insert a notification's Delivery rows (one, the usual case, through its prepared INSERT)."""
    if len(rows) == 1:
        create(Delivery, **rows[0])
    elif rows:
        Delivery.insert_many(rows).execute()


def notify_addresses(catalog: Catalog, account: User, type_id: str, params: dict, addresses: dict[str, str], *,
                     ticket=None, idempotency_key: str | None = None) -> Notification:
    """Like `notify`, to fixed addresses by channel kind (a team's `notify`) instead of a person's preferences:
    one outbox row per installed channel that can reach its address; no in-app row."""
    notification = create(Notification, user=account, type_id=type_id, params=params, ticket=ticket,
                          idempotency_key=idempotency_key, in_app=False)
    rows = []
    for kind, address in addresses.items():
        channel = registry.get(kind)
        target = channel.team_target(catalog, address) if channel is not None else None
        if target is not None:
            rows.append({"channel": kind, "target": target, "notification": notification.id})
    _outbox(rows)
    return notification


def enqueue_deliveries(rt, notification_ids) -> int:
    """After commit: enqueue the pending deliveries of these notifications; Redis down is logged, the sweeper catches up."""
    return sum(enqueue_delivery_rows(rt, rows) for rows in pending_deliveries(notification_ids))


PendingDelivery = namedtuple("PendingDelivery", "id attempts next_attempt_at")


def pending_deliveries(notification_ids) -> Iterator[list[PendingDelivery]]:
    """The pending outbox rows of these notifications (what `engine.enqueue` needs of them), 500 notifications a query.

    The status is checked here, not in SQL: given `status = 'pending'` SQLite walks the status index, i.e. every
    pending row of the outbox (a backlog during an outage), instead of the few rows of these notifications."""
    for chunk in chunked(list(notification_ids), 500):
        query = _OUTBOX_ROWS.get(len(chunk))
        if query is None:  # one per number of notifications (a change writes a few; a fan-out 500 at a time)
            query = _OUTBOX_ROWS.setdefault(len(chunk), PreparedSelect(lambda *ids: Delivery.select(
                Delivery.id, Delivery.attempts, Delivery.next_attempt_at, Delivery.status).where(
                Delivery.notification.in_(ids)).tuples(), arity=len(chunk)))
        yield [PendingDelivery(*row[:3]) for row in query.all(*chunk) if row[3] == "pending"]


_OUTBOX_ROWS: dict[int, PreparedSelect] = {}


# Ordered by (user, id), not id alone: PostgreSQL then walks notification_in_app_user_id_id instead of scanning the
# primary key backwards past every newer row of other users (98,000 rows for an early customer at 100k tickets).
NEWEST_FIRST = Keyset((Notification.user, Notification.id), descending=True)


def user_notification_page(user: User, after: str | None = None, before: str | None = None,
                           size: int = PAGE_SIZE) -> Page:
    """A page of the in-app list (web channel), newest first, with its total; each row's ticket joined in."""
    where = (Notification.user == user) & Notification.in_app
    query = Notification.select(Notification, Ticket).join(Ticket, JOIN.LEFT_OUTER).where(where)
    return paginate(query, NEWEST_FIRST, after, before, size,
                    counted=Notification.select().where(where))


def user_notifications(user: User, limit: int = PAGE_SIZE) -> list[Notification]:
    """The newest `limit` rows of the in-app list."""
    return user_notification_page(user, size=limit).rows


def unread_count(user: User, cache: live_cache.LiveCache | None = None) -> int:
    """The unread badge's number, from `cache` when it has it (evicted by `unread_changed`). The query: one range
    of the partial index notification_unread_user_id (unread in-app rows only: counted from the index alone)."""
    key = live_cache.unread_tag(user.id)
    if cache is not None and (count := cache.get(key)) is not None:
        return count
    fill = cache.token() if cache is not None else 0
    count = _UNREAD.first(user.id)[0]
    if cache is not None:
        cache.put(key, count, fill)
    return count


_UNREAD = PreparedSelect(lambda user_id: Notification.select(fn.COUNT(SQL("*"))).where(
    (Notification.user == user_id) & Notification.read_at.is_null() & Notification.in_app).tuples(), arity=1)


def unread_changed(user: User | int) -> None:
    """The user's unread count changed (a notification written, read or deleted): cached counts are dropped in
    every process once the transaction commits."""
    live_cache.changed(live_cache.unread_tag(user if isinstance(user, int) else user.id))


def mark_read(user: User, notification_ids=None) -> int:
    """Mark the user's notifications read (all unread ones when no ids are given)."""
    query = Notification.update(read_at=datetime.now(timezone.utc)).where(
        (Notification.user == user) & Notification.read_at.is_null()
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(list(notification_ids)))
    marked = query.execute()
    if marked:
        unread_changed(user)
    return marked

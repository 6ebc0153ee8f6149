"""Notifications: type x customer preferences -> Notification + outbox Delivery rows, then best-effort enqueue."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from peewee import chunked

from engine.catalog import Catalog
from engine.enqueue import enqueue_delivery_rows
from engine.store.models import Delivery, Notification, NotificationPreference, TelegramLink, User

log = logging.getLogger(__name__)

CHANNELS = ("web", "email", "telegram")


def _explicit(user: User) -> dict[tuple[str, str], bool]:
    query = NotificationPreference.select().where(NotificationPreference.user == user)
    return {(p.type_id, p.channel): p.enabled for p in query}


def enabled_channels(catalog: Catalog, user: User, type_id: str) -> set[str]:
    """Channels the user gets `type_id` on: explicit preferences over the type's default_channels."""
    channels = set(catalog.notification_types[type_id].default_channels)
    for pref in NotificationPreference.select().where(
        (NotificationPreference.user == user) & (NotificationPreference.type_id == type_id)
    ):
        (channels.add if pref.enabled else channels.discard)(pref.channel)
    return channels


def preferences(catalog: Catalog, user: User) -> dict[str, dict[str, bool]]:
    """Every notification type -> {channel: enabled} for the settings page (defaults filled in)."""
    explicit = _explicit(user)
    return {
        type_id: {
            channel: explicit.get((type_id, channel), channel in spec.default_channels) for channel in CHANNELS
        }
        for type_id, spec in catalog.notification_types.items()
    }


def set_preferences(user: User, choices: dict[str, dict[str, bool]]) -> None:
    """Store explicit per-type, per-channel choices (unknown channels are ignored)."""
    with NotificationPreference._meta.database.atomic():
        for type_id, channels in choices.items():
            for channel, enabled in channels.items():
                if channel not in CHANNELS:
                    continue
                NotificationPreference.insert(user=user, type_id=type_id, channel=channel, enabled=bool(enabled)).on_conflict(
                    conflict_target=[NotificationPreference.user, NotificationPreference.type_id, NotificationPreference.channel],
                    update={NotificationPreference.enabled: bool(enabled)},
                ).execute()


def telegram_targets(catalog: Catalog, user: User, type_id: str, about_ticket: bool = False) -> list[str]:
    """Targets 'binding:chat_id' of the user's active links whose bot delivers `type_id`, one per Telegram user.

    A person who talks to both bots gets each notification once: ticket news through the bot serving tickets
    (where the ticket's buttons work), anything else through the notification bot.
    """
    bots = catalog.bindings(kind="telegram")
    chosen: dict[int, tuple[int, str]] = {}
    for link in TelegramLink.select().where((TelegramLink.user == user) & TelegramLink.active).order_by(TelegramLink.id):
        binding = bots.get(link.binding)
        if binding is None:
            continue
        if binding.notifications is not None:
            wanted = type_id in binding.notifications
        else:
            wanted = "notifications" in binding.serves
        if not wanted:
            continue
        rank = 0 if ("tickets" if about_ticket else "notifications") in binding.serves else 1
        if link.tg_user_id not in chosen or rank < chosen[link.tg_user_id][0]:
            chosen[link.tg_user_id] = (rank, f"{link.binding}:{link.chat_id}")
    return [target for _, target in chosen.values()]


def email_targets(catalog: Catalog, user: User) -> list[str]:
    """The account's address and its extra notification addresses, when an email binding exists."""
    if not catalog.bindings(kind="email"):
        return []
    return [a for a in dict.fromkeys([user.email, *(user.notify_emails or [])]) if a]


def notify(catalog: Catalog, user: User, type_id: str, params: dict, *, ticket=None, idempotency_key: str | None = None,
           skip_channels: tuple[str, ...] = ()) -> Notification:
    """Write a notification and its outbox rows; call inside the transaction of the change that caused it.

    `skip_channels`: channels that already told the person (the bot that just confirmed their ticket).
    """
    channels = enabled_channels(catalog, user, type_id) - set(skip_channels)
    notification = Notification.create(
        user=user, type_id=type_id, params=params, ticket=ticket, idempotency_key=idempotency_key,
        in_app="web" in channels,  # the web channel is the row itself, hidden when switched off
    )
    rows = []
    if "email" in channels:
        rows += [{"channel": "email", "target": a} for a in email_targets(catalog, user)]
    if "telegram" in channels:
        targets = telegram_targets(catalog, user, type_id, about_ticket=ticket is not None)
        rows += [{"channel": "telegram", "target": t} for t in targets]
    if rows:
        Delivery.insert_many([{**row, "notification": notification.id} for row in rows]).execute()
    return notification


def enqueue_deliveries(rt, notification_ids) -> int:
    """After commit: enqueue the pending deliveries of these notifications; Redis down is logged, the sweeper catches up."""
    count = 0
    for chunk in chunked(list(notification_ids), 500):
        query = Delivery.select(Delivery.id, Delivery.attempts, Delivery.next_attempt_at).where(
            Delivery.notification.in_(chunk) & (Delivery.status == "pending")
        )
        rows = list(query.namedtuples())
        count += enqueue_delivery_rows(rt, rows)
    return count


def user_notifications(user: User, limit: int = 50) -> list[Notification]:
    """The in-app list (web channel), newest first."""
    query = Notification.select().where((Notification.user == user) & Notification.in_app)
    return list(query.order_by(Notification.id.desc()).limit(limit))


def unread_count(user: User) -> int:
    query = Notification.select().where((Notification.user == user) & Notification.in_app & Notification.read_at.is_null())
    return query.count()


def mark_read(user: User, notification_ids=None) -> int:
    """Mark the user's notifications read (all unread ones when no ids are given)."""
    query = Notification.update(read_at=datetime.now(timezone.utc)).where(
        (Notification.user == user) & Notification.read_at.is_null()
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(list(notification_ids)))
    return query.execute()

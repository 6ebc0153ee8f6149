"""Notifications: type x customer preferences -> Notification + outbox Delivery rows (H4 extends)."""
from __future__ import annotations

from engine.catalog import Catalog
from engine.store.models import Delivery, Notification, NotificationPreference, TelegramLink, User


def enabled_channels(catalog: Catalog, user: User, type_id: str) -> set[str]:
    """Channels the user gets `type_id` on: explicit preferences over the type's default_channels."""
    channels = set(catalog.notification_types[type_id].default_channels)
    for pref in NotificationPreference.select().where(
        (NotificationPreference.user == user) & (NotificationPreference.type_id == type_id)
    ):
        (channels.add if pref.enabled else channels.discard)(pref.channel)
    return channels


def notify(catalog: Catalog, user: User, type_id: str, params: dict, *, ticket=None, idempotency_key: str | None = None) -> Notification:
    """Write a notification and its outbox rows; call inside the transaction of the change that caused it."""
    channels = enabled_channels(catalog, user, type_id)
    notification = Notification.create(user=user, type_id=type_id, params=params, ticket=ticket, idempotency_key=idempotency_key)
    if "email" in channels:
        for address in dict.fromkeys([user.email, *(user.notify_emails or [])]):
            Delivery.create(notification=notification, channel="email", target=address)
    if "telegram" in channels:
        bots = catalog.bindings(kind="telegram")
        for link in TelegramLink.select().where((TelegramLink.user == user) & TelegramLink.active):
            binding = bots.get(link.binding)
            if binding and (binding.notifications is None or type_id in binding.notifications) and (
                "notifications" in binding.serves or binding.notifications
            ):
                Delivery.create(notification=notification, channel="telegram", target=link.binding)
    return notification

"""The Telegram channel's delivery side: linked chats as targets, checking a target still works, sending, refusals."""
from __future__ import annotations

from channels.telegram.sender import send_outgoing
from engine import accounts
from engine.errors import PermanentDeliveryError
from engine.store.models import Delivery, Notification, TelegramLink, User


def split_target(target: str) -> tuple[str, str]:
    """A telegram target 'binding:chat_id' -> (binding, chat_id)."""
    binding_id, _, chat_id = target.rpartition(":")
    return binding_id, chat_id


def targets(kind: str, catalog, user, type_id: str, about_ticket: bool) -> list[str]:
    """Targets 'binding:chat_id' of the user's active links whose bot delivers `type_id`, one per Telegram user.

    A person who talks to both bots gets each notification once: ticket news through the bot serving tickets
    (where the ticket's buttons work), anything else through the notification bot.
    """
    bots = catalog.bindings(kind=kind)
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


def resolve(kind: str, catalog, target: str):
    """(binding id, binding, chat id) while the bot is configured and the chat linked; PermanentDeliveryError else."""
    binding_id, address = split_target(target)
    binding = catalog.channels.get(binding_id)
    if binding is None or binding.kind != kind:
        raise PermanentDeliveryError(f"telegram binding {binding_id!r} is no longer configured")
    link = TelegramLink.get_or_none((TelegramLink.binding == binding_id) & (TelegramLink.chat_id == int(address)))
    if link is None or not link.active:
        raise PermanentDeliveryError("the Telegram chat is no longer linked")
    return binding_id, binding, address


def refused(rt, row: Delivery, error: str) -> Delivery | None:
    """The chat blocked the bot (403) or is gone: unlink it, and email the notification if it had no email."""
    binding_id, chat_id = split_target(row.target)
    accounts.unlink(binding_id, int(chat_id), error)
    notification = Notification.get_by_id(row.notification_id)
    user = User.get_by_id(notification.user_id)
    has_email = Delivery.select().where(
        (Delivery.notification == notification) & (Delivery.channel == "email")
    ).exists()
    if has_email or not user.email or not rt.catalog.bindings(kind="email"):
        return None
    return Delivery.create(notification=notification, channel="email", target=user.email)


send = send_outgoing

"""The Telegram channel: bot bindings, linked chats as targets, the Bot API's limits, the bots' sender."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from channels.telegram.sender import send_outgoing
from engine import accounts
from engine.catalog.schema import BindingBase
from engine.channel_protocol import Channel
from engine.errors import PermanentDeliveryError
from engine.ratelimit import Bucket
from engine.store.models import Delivery, Notification, TelegramLink, User

MAX_TEXT = 4096  # Bot API limit of one message's text


class TelegramBinding(BindingBase):
    """A `telegram` binding: one bot."""

    kind: Literal["telegram"]
    token_env: str | None = Field(None, description="Environment variable holding the bot token")
    username: str | None = Field(None, description="The bot's @username, for t.me deep links")
    link_by_username: bool = Field(False, description="/start links a customer who entered this username in settings")


def split_target(target: str) -> tuple[str, str]:
    """A telegram target 'binding:chat_id' -> (binding, chat_id)."""
    binding_id, _, chat_id = target.rpartition(":")
    return binding_id, chat_id


def telegram_buckets(policy, binding_id: str, chat_id: str) -> list[Bucket]:
    """Per-bot and per-chat buckets from policies.telegram_rate, each allowing a burst of one second's worth."""
    return [
        Bucket(f"ratelimit:tg:bot:{binding_id}", policy.per_bot_per_second, policy.per_bot_per_second),
        Bucket(f"ratelimit:tg:chat:{binding_id}:{chat_id}", policy.per_chat_per_second, policy.per_chat_per_second),
    ]


class TelegramChannel(Channel):
    """Targets are 'binding:chat_id', one per Telegram user; a chat that refuses is unlinked and email used instead."""

    kind = "telegram"
    binding_model = TelegramBinding
    accepts_tickets = True
    confirms_tickets = True  # the bot answers "ticket created" in the conversation itself
    links_chats = True  # /start with a link token, or by username (engine.accounts)
    max_text_length = MAX_TEXT

    def secret_env(self, binding: TelegramBinding) -> str | None:
        return binding.token_env

    def binding_problems(self, binding: TelegramBinding) -> list[str]:
        if binding.token_env:
            return []
        return ["a telegram binding needs token_env (the variable holding the bot token)"]

    def inbound_command(self, binding_ids: list[str]) -> tuple[str, ...] | None:
        return ("bot", *(f"--binding={name}" for name in binding_ids))

    def targets(self, catalog, user, type_id, about_ticket) -> list[str]:
        """Targets 'binding:chat_id' of the user's active links whose bot delivers `type_id`, one per Telegram user.

        A person who talks to both bots gets each notification once: ticket news through the bot serving tickets
        (where the ticket's buttons work), anything else through the notification bot.
        """
        bots = catalog.bindings(kind=self.kind)
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

    def resolve(self, catalog, target: str):
        binding_id, address = split_target(target)
        binding = catalog.channels.get(binding_id)
        if binding is None or binding.kind != self.kind:
            raise PermanentDeliveryError(f"telegram binding {binding_id!r} is no longer configured")
        link = TelegramLink.get_or_none((TelegramLink.binding == binding_id) & (TelegramLink.chat_id == int(address)))
        if link is None or not link.active:
            raise PermanentDeliveryError("the Telegram chat is no longer linked")
        return binding_id, binding, address

    def rate_buckets(self, policies, target: str) -> list[Bucket]:
        return telegram_buckets(policies.telegram_rate, *split_target(target))

    def send(self, rt, outgoing) -> None:
        send_outgoing(rt, outgoing)

    def refused(self, rt, row: Delivery, error: str) -> Delivery | None:
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


CHANNEL = TelegramChannel()

"""The Telegram channel: bot bindings, the Bot API's limits, and (in `notifications`) linked chats and sending.

This module stays light (no storage, no bot framework): every process imports it to validate the config, and the
delivery side is imported on first use.
"""
from __future__ import annotations

import importlib
from typing import Literal

from pydantic import Field

from engine.catalog.schema import BindingBase
from engine.channel_protocol import Channel
from engine.ratelimit import Bucket

MAX_TEXT = 4096  # Bot API limit of one message's text
SEND_TIMEOUT = 15  # seconds per Bot API call; a hung server becomes a retryable TemporaryDeliveryError
DELIVERY_MODULE = "channels.telegram.notifications"


class TelegramBinding(BindingBase):
    """A `telegram` binding: one bot."""

    kind: Literal["telegram"]
    token_env: str | None = Field(None, description="Environment variable holding the bot token")
    username: str | None = Field(None, description="The bot's @username, for t.me deep links")
    link_by_username: bool = Field(False, description="/start links a customer who entered this username in settings")


def telegram_buckets(policy, binding_id: str, chat_id: str) -> list[Bucket]:
    """Per-bot and per-chat buckets from policies.telegram_rate, each allowing a burst of one second's worth."""
    return [
        Bucket(f"ratelimit:tg:bot:{binding_id}", policy.per_bot_per_second, policy.per_bot_per_second),
        Bucket(f"ratelimit:tg:chat:{binding_id}:{chat_id}", policy.per_chat_per_second, policy.per_chat_per_second),
    ]


def _delivery():
    """The delivery side (storage, the Bot API client), imported when a notification is first addressed or sent."""
    return importlib.import_module(DELIVERY_MODULE)


class TelegramChannel(Channel):
    """Targets are 'binding:chat_id', one per Telegram user; a chat that refuses is unlinked and email used instead."""

    kind = "telegram"
    binding_model = TelegramBinding
    accepts_tickets = True
    confirms_tickets = True  # the bot answers "ticket created" in the conversation itself
    links_chats = True  # /start with a link token, or by username (engine.accounts)
    max_text_length = MAX_TEXT
    send_timeout = 2 * SEND_TIMEOUT  # one sendMessage: connect and read timeouts (the renderer keeps a text to one message)

    def secret_env(self, binding: TelegramBinding) -> str | None:
        return binding.token_env

    def binding_problems(self, binding: TelegramBinding) -> list[str]:
        if binding.token_env:
            return []
        return ["a telegram binding needs token_env (the variable holding the bot token)"]

    def inbound_command(self, binding_ids: list[str]) -> tuple[str, ...] | None:
        return ("bot", *(f"--binding={name}" for name in binding_ids))

    def rate_buckets(self, policies, target: str) -> list[Bucket]:
        binding_id, _, chat_id = target.rpartition(":")
        return telegram_buckets(policies.telegram_rate, binding_id, chat_id)

    def targets(self, catalog, user, type_id, about_ticket) -> list[str]:
        return _delivery().targets(self.kind, catalog, user, type_id, about_ticket)

    def resolve(self, catalog, target: str):
        return _delivery().resolve(self.kind, catalog, target)

    def send(self, rt, outgoing) -> None:
        _delivery().send(rt, outgoing)

    def refused(self, rt, row, error: str):
        return _delivery().refused(rt, row, error)


CHANNEL = TelegramChannel()

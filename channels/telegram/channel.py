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

MAX_TEXT = 4096  # Bot API limit of one message's text, in UTF-16 code units (longer texts are split, never cut)
SEND_TIMEOUT = 15  # seconds per Bot API call; a hung server becomes a retryable TemporaryDeliveryError
DELIVERY_MODULE = "channels.telegram.notifications"
PREVIEW_MODULE = "channels.telegram.preview"  # imported on an admin's first preview


class TelegramBinding(BindingBase):
    """A `telegram` binding: one bot."""

    kind: Literal["telegram"]
    token_env: str | None = Field(None, description="Environment variable holding the bot token")
    username: str | None = Field(None, description="The bot's @username, for t.me deep links")
    link_by_username: bool = Field(False, description="/start links a customer who entered this username in settings")


def _delivery():
    """The delivery side (storage, the Bot API client), imported when a notification is first addressed or sent."""
    return importlib.import_module(DELIVERY_MODULE)


class TelegramChannel(Channel):
    """Targets are 'binding:chat_id', one per Telegram user; a chat that refuses is unlinked and email used instead.
    Its sender paces itself (channels.telegram.pace, shared with the bots' replies) and splits long texts."""

    kind = "telegram"
    binding_model = TelegramBinding
    accepts_tickets = True
    confirms_tickets = True  # the bot answers "ticket created" in the conversation itself
    links_chats = True  # /start with a link token, or by username (engine.accounts)
    send_timeout = 2 * SEND_TIMEOUT  # one sendMessage: connect and read timeouts (a split text's later parts are
    # remembered as sent, so a lease taken over mid-way does not send them twice)

    def secret_env(self, binding: TelegramBinding) -> str | None:
        return binding.token_env

    def binding_problems(self, binding: TelegramBinding) -> list[str]:
        if binding.token_env:
            return []
        return ["a telegram binding needs token_env (the variable holding the bot token)"]

    def inbound_command(self, binding_ids: list[str]) -> tuple[str, ...] | None:
        return ("bot", *(f"--binding={name}" for name in binding_ids))

    def preview_steps(self, catalog, topic, locale):
        return importlib.import_module(PREVIEW_MODULE).preview_steps(catalog, topic, locale)

    def targets(self, catalog, user, type_id, about_ticket) -> list[str]:
        return _delivery().targets(self.kind, catalog, user, type_id, about_ticket)

    def resolve(self, catalog, target: str):
        return _delivery().resolve(self.kind, catalog, target)

    def send(self, rt, outgoing) -> None:
        _delivery().send(rt, outgoing)

    def refused(self, rt, row, error: str):
        return _delivery().refused(rt, row, error)


CHANNEL = TelegramChannel()

"""The channel sender registry: channels/* register a function per channel kind when imported."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from engine.catalog.schema import ChannelBinding


@dataclass(frozen=True)
class Outgoing:
    """One rendered message for one target, handed to a channel's sender.

    A sender is `send(rt, outgoing) -> None`; it raises TemporaryDeliveryError (worth retrying; retry_after when the
    channel said when), PermanentDeliveryError (never retry) or ChannelNotConfigured (a setting is missing: the row
    is `skipped`, not retried), and nothing else on purpose.
    """

    delivery_id: int
    notification_id: int
    channel: str  # email | telegram
    binding_id: str  # the channel binding in config/notifications/channels.yaml
    binding: ChannelBinding
    address: str  # email address, or the Telegram chat id as text
    subject: str  # one line, CR/LF stripped
    text: str  # plain text (Telegram: send without parse_mode)
    html: str | None = None  # email only, autoescaped
    locale: str = "ru"
    name: str = ""  # the recipient's display name (email To), as the customer typed it: strip before use in headers
    sender_name: str = ""  # the From display name (UI text email.sender_name in the recipient's locale)


Sender = Callable[[object, Outgoing], None]
_SENDERS: dict[str, Sender] = {}


def register_sender(channel_kind: str, fn: Sender) -> Sender:
    """Make `fn` the sender of `channel_kind` in this process (the last registration wins)."""
    _SENDERS[channel_kind] = fn
    return fn


def sender_for(channel_kind: str) -> Sender | None:
    return _SENDERS.get(channel_kind)

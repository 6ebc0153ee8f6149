"""What a channel's sender receives (`Outgoing`), and the sender of each installed kind (replaceable, e.g. by tests)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.catalog.schema import ChannelBinding
from engine.channel_registry import Sender, registry


@dataclass(frozen=True)
class Outgoing:
    """One rendered message for one target, handed to a channel's sender (`Channel.send(rt, outgoing)`).

    A sender raises TemporaryDeliveryError (worth retrying; retry_after when the channel said when),
    PermanentDeliveryError (never retry) or ChannelNotConfigured (a setting is missing: the row is `skipped`, not
    retried), and nothing else on purpose.
    """

    delivery_id: int
    notification_id: int
    channel: str  # the channel kind
    binding_id: str  # the channel binding in config/notifications/channels.yaml
    binding: ChannelBinding
    address: str  # what the channel's `resolve` made of the Delivery target (an email address, a chat id as text)
    subject: str  # one line, CR/LF stripped
    text: str  # plain text
    html: str | None = None  # for channels whose renderer makes HTML, autoescaped
    locale: str = "ru"
    name: str = ""  # the account's display name when the address is its own login, as typed: strip before use in headers


def register_sender(channel_kind: str, fn: Sender) -> Sender:
    """Make `fn` the sender of `channel_kind` in this process (the last registration wins)."""
    return registry.set_sender(channel_kind, fn)


def sender_for(channel_kind: str) -> Sender | None:
    return registry.sender(channel_kind)

"""The web portal as a channel: customers create tickets on it, and its notification list is the in-app channel."""
from __future__ import annotations

from typing import Literal

from engine.catalog.schema import BindingBase
from engine.channel_protocol import Channel


class WebBinding(BindingBase):
    """A `web` binding: the portal; a notification on it is a line in the customer's notification list."""

    kind: Literal["web"]


class PortalChannel(Channel):
    """Nothing is sent: the Notification row itself (`in_app`) is what the portal lists."""

    kind = "web"
    binding_model = WebBinding
    accepts_tickets = True
    in_app = True


CHANNEL = PortalChannel()

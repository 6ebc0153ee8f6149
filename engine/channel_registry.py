"""The process's installed channels: kind -> Channel, filled once at start by `channels.register_channels()`.

The engine never imports a channel package: every process (web, worker, bot, config commands, tests) registers the
same list (`channels/__init__.py` plus `HELPDESK_CHANNELS`) before it loads a catalog, and the engine asks this
registry for a kind's binding model, targets, renderer, rate buckets and sender.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

# An engine.channel_protocol.Channel; not imported: the catalog reads this registry, and a channel's code reaches
# the store and the renderer.
Channel = Any
Sender = Callable[[object, object], None]  # send(rt, outgoing: engine.senders.Outgoing) -> None


class ChannelRegistry:
    """Channels by kind in registration order, and the sender of each kind (a test or plugin may replace one)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._channels: dict[str, Channel] = {}
        self._senders: dict[str, Sender] = {}

    def register(self, channel: Channel) -> Channel:
        """Install `channel` (a kind registered again is replaced in place, keeping its position)."""
        with self._lock:
            self._channels[channel.kind] = channel
            self._senders[channel.kind] = channel.send
        return channel

    def unregister(self, kind: str) -> None:
        with self._lock:
            self._channels.pop(kind, None)
            self._senders.pop(kind, None)

    def get(self, kind: str) -> Channel | None:
        return self._channels.get(kind)

    def all(self) -> tuple[Channel, ...]:
        """Every installed channel, in registration order (the settings matrix's columns, the config's kinds)."""
        return tuple(self._channels.values())

    def kinds(self) -> tuple[str, ...]:
        return tuple(self._channels)

    def ticket_kinds(self) -> tuple[str, ...]:
        """Kinds where customers create tickets: the default `channels` of a category."""
        return tuple(kind for kind, channel in self._channels.items() if channel.accepts_tickets)

    def set_sender(self, kind: str, fn: Sender) -> Sender:
        """Make `fn` the sender of `kind` in this process (the last one set wins)."""
        self._senders[kind] = fn
        return fn

    def sender(self, kind: str) -> Sender | None:
        return self._senders.get(kind)

    def snapshot(self) -> tuple[dict, dict]:
        """The current state, for `restore` (a test that installs a channel for its own duration)."""
        with self._lock:
            return dict(self._channels), dict(self._senders)

    def restore(self, state: tuple[dict, dict]) -> None:
        with self._lock:
            self._channels, self._senders = dict(state[0]), dict(state[1])


registry = ChannelRegistry()

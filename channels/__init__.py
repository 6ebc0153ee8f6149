"""Channel packages (the portal, email, Telegram); they import engine, never the reverse.

`INSTALLED` is the one list of the channels every process has; `register_channels()` puts them into the engine's
registry at process start (run.py, web.create_app, the test suite). More channels (a plugin, a test's toy channel)
are named, comma-separated, in the `HELPDESK_CHANNELS` environment variable and come after these.
"""
from __future__ import annotations

import importlib
import os

from engine.channel_registry import ChannelRegistry, registry as engine_registry

# Each module exposes CHANNEL, an engine.channel_protocol.Channel; their order is the settings matrix's columns.
INSTALLED = ("channels.portal", "channels.email.channel", "channels.telegram.channel")
EXTRA_ENV = "HELPDESK_CHANNELS"


def channel_modules(env=None) -> list[str]:
    """The installed modules, then those named in HELPDESK_CHANNELS (each once)."""
    extra = (os.environ if env is None else env).get(EXTRA_ENV, "")
    return list(dict.fromkeys([*INSTALLED, *(name.strip() for name in extra.split(",") if name.strip())]))


def register_channels(registry: ChannelRegistry | None = None, env=None) -> list:
    """Import each channel module and register its CHANNEL (a kind registered before is replaced); returns them."""
    target = engine_registry if registry is None else registry
    return [target.register(importlib.import_module(name).CHANNEL) for name in channel_modules(env)]


def ensure_channels(env=None) -> None:
    """Register the channels unless this process did already (a WSGI server importing web.create_app)."""
    if not engine_registry.all():
        register_channels(env=env)

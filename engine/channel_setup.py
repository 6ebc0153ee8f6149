"""Channel bindings and the environment: a binding whose secret variable (its channel's `secret_env`) is unset is not configured."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from engine.channel_registry import registry
from engine.errors import ChannelNotConfigured

log = logging.getLogger(__name__)
# Set by `run.py dev` for the processes it starts: it has reported the unconfigured channels already.
REPORTED_ENV = "HELPDESK_CHANNELS_REPORTED"


@dataclass(frozen=True)
class Unconfigured:
    """A binding that cannot deliver: `env_var` is not set."""

    binding_id: str
    kind: str
    env_var: str

    @property
    def reason(self) -> str:
        return f"channel {self.binding_id} is not configured: {self.env_var} is not set"


def env_var(binding) -> str | None:
    """The variable holding the binding's secret (bot token, SMTP URL): its channel says; None for kinds that need none."""
    channel = registry.get(binding.kind)
    return channel.secret_env(binding) if channel is not None else None


def env_value(env: dict, name: str) -> str:
    """A variable from settings.env, falling back to the process environment; "" when unset."""
    return (env.get(name) or os.environ.get(name) or "").strip()


def binding_setting(env: dict, binding_id: str, binding) -> str:
    """The value of the binding's variable; ChannelNotConfigured (with the reason) when it is unset."""
    name = env_var(binding)
    value = env_value(env, name) if name else ""
    if name and not value:
        raise ChannelNotConfigured(Unconfigured(binding_id, binding.kind, name).reason)
    return value


def unconfigured(catalog, env: dict) -> list[Unconfigured]:
    """Every binding of the catalog whose variable is not set, in config order."""
    found = []
    for binding_id, binding in catalog.channels.items():
        name = env_var(binding)
        if name and not env_value(env, name):
            found.append(Unconfigured(binding_id, binding.kind, name))
    return found


def report_unconfigured(catalog, env: dict) -> list[Unconfigured]:
    """At a process's start: one WARNING per unconfigured binding; returns them."""
    found = unconfigured(catalog, env)
    if not env.get(REPORTED_ENV):
        for item in found:
            log.warning("%s; its deliveries are skipped until it is set and the processes restarted", item.reason)
    return found

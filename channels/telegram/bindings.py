"""The bindings one bot token serves and their roles, read from the running catalog (a reload may change them)."""
from __future__ import annotations

from channels.telegram.client import BotConfigError, token_for


class BotBindings:
    """`binding_ids` share one token: support and/or notifications."""

    def __init__(self, rt, binding_ids: list[str] | tuple[str, ...]):
        self.rt = rt
        self.binding_ids = tuple(binding_ids)

    @property
    def names(self) -> str:
        return ", ".join(self.binding_ids)

    @property
    def serves_tickets(self) -> bool:
        bindings = self.rt.catalog.channels
        return any("tickets" in bindings[b].serves for b in self.binding_ids if b in bindings)

    @property
    def primary(self) -> str:
        """The binding that owns conversation state and update ids (the ticket-serving one when shared)."""
        bindings = self.rt.catalog.channels
        return next((b for b in self.binding_ids if b in bindings and "tickets" in bindings[b].serves), self.binding_ids[0])


def sharing_token(rt, binding_id: str) -> tuple[str, list[str]]:
    """The token `binding_id` uses and every telegram binding using the same one."""
    bindings = rt.catalog.bindings(kind="telegram")
    token = token_for(rt.settings, binding_id, bindings[binding_id])
    return token, [b for b, spec in bindings.items() if spec.token_env and _token_or_none(rt, b, spec) == token]


def _token_or_none(rt, binding_id, spec) -> str | None:
    try:
        return token_for(rt.settings, binding_id, spec)
    except BotConfigError:
        return None

"""The channel protocol: what a channel package implements so the engine can configure, address, render and send.

A channel package defines one subclass of `Channel` and exposes an instance as `CHANNEL`; `channels/__init__.py`
lists the installed packages and registers them into `engine.channel_registry.registry` at process start.
The engine only ever talks to a channel through these attributes and methods (docs/ARCHITECTURE.md, "Channels").
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from engine.catalog.schema import BindingBase, Text
from engine.errors import PermanentDeliveryError, TemporaryDeliveryError
from engine.ratelimit import Bucket
from engine.render import Rendered, render_text

if TYPE_CHECKING:
    from engine.catalog import Catalog
    from engine.catalog.schema import Policies
    from engine.senders import Outgoing
    from engine.store.models import Delivery, User


class Channel:
    """One channel kind. Subclasses set the class attributes and override what their channel does differently.

    Sending raises, and nothing else on purpose: PermanentDeliveryError (never retried: the address refused or is
    invalid), TemporaryDeliveryError (retried with backoff; `retry_after` when the channel said when, which spends
    no attempt) or ChannelNotConfigured (its setting is unset: the delivery is `skipped`).
    """

    kind: ClassVar[str]  # the binding `kind` in notifications/channels.yaml, and the Delivery.channel value
    binding_model: ClassVar[type[BindingBase]]  # pydantic model with `kind: Literal["<kind>"]`: a member of the union
    template_type: ClassVar[Any] = Text  # the annotation of `templates.<kind>`: one template, or one per locale
    accepts_tickets: ClassVar[bool] = False  # customers create tickets here: a category's default `channels`
    confirms_tickets: ClassVar[bool] = False  # it confirms a ticket made through it itself: no ticket_created echo
    in_app: ClassVar[bool] = False  # the Notification row itself is the message (the portal's list)
    links_chats: ClassVar[bool] = False  # a customer links a chat to the account (TelegramLink, one-time link tokens)
    max_text_length: ClassVar[int | None] = None  # longer rendered texts are cut with "…"
    # The longest one `send` blocks before it raises (its network timeouts): a delivery's lease is this plus a
    # margin (engine.delivery.delivery_lease), so a killed worker's rows are taken again within seconds.
    send_timeout: ClassVar[float] = 30.0

    # --- configuration ------------------------------------------------------------------------------------------

    def secret_env(self, binding: BindingBase) -> str | None:
        """The environment variable holding the binding's secret; unset means the binding is not configured."""
        return None

    def binding_problems(self, binding: BindingBase) -> list[str]:
        """Config errors of one binding that its model cannot express (reported at the binding's line)."""
        return []

    def template_texts(self, template) -> dict[tuple, str]:
        """The Jinja2 sources of a `templates.<kind>` value by key path below it (checked when loading)."""
        if template is None:
            return {}
        if isinstance(template, BaseModel):
            texts = {}
            for key in type(template).model_fields:
                value = getattr(template, key)
                if isinstance(value, dict):  # one text per locale: each is checked
                    texts.update({(key, locale): text for locale, text in value.items()})
                elif isinstance(value, str):
                    texts[(key,)] = value
            return texts
        if isinstance(template, dict):  # one template per locale: each is checked
            return {(locale,): text for locale, text in template.items()}
        return {(): template}

    def address_problems(self, address: str) -> list[str]:
        """Config errors of a fixed address on this channel (a team's `notify` in teams.yaml)."""
        return []

    def inbound_command(self, binding_ids: list[str]) -> tuple[str, ...] | None:
        """The `run.py` arguments of the process that receives messages for these configured bindings (its inbound
        adapter, started by `run.py dev`); None when nothing is received, or inside another process (the portal)."""
        return None

    def preview_steps(self, catalog: Catalog, topic, locale: str) -> list[tuple[str, list[str]]] | None:
        """The messages (text, button texts) a customer gets filling in `topic`'s form here, from `catalog` (the
        admin's preview of a draft config); None when customers do not fill in forms through this channel."""
        return None

    # --- notifications ------------------------------------------------------------------------------------------

    def targets(self, catalog: Catalog, user: User, type_id: str, about_ticket: bool) -> list[str]:
        """The Delivery targets of `user` for `type_id` on this channel ([]: not reachable here)."""
        return []

    def team_target(self, catalog: Catalog, address: str) -> str | None:
        """The Delivery target of a team's fixed address (None: not reachable here). The default: the address itself,
        sent through the kind's first binding (see `resolve`)."""
        return address if catalog.bindings(kind=self.kind) else None

    def resolve(self, catalog: Catalog, target: str) -> tuple[str, BindingBase, str]:
        """(binding id, binding, address) of a stored target; PermanentDeliveryError when it cannot be sent any more.
        The default: the kind's first binding, the target is the address."""
        bindings = catalog.bindings(kind=self.kind)
        if not bindings:
            raise PermanentDeliveryError(f"no {self.kind} binding is configured")
        binding_id, binding = next(iter(bindings.items()))
        return binding_id, binding, target

    def render(self, catalog: Catalog, type_id: str, params: dict, locale: str) -> Rendered:
        """The message of a notification type on this channel (default: its text template, or the fallback text)."""
        return render_text(catalog.notification_types[type_id], self.kind, params, locale, self.max_text_length)

    def rate_buckets(self, policies: Policies, target: str) -> list[Bucket]:
        """Token buckets one send to `target` takes (shared by every worker through Redis); [] for no limit."""
        return []

    def send(self, rt, outgoing: Outgoing) -> None:
        """Send one rendered message once; raise the delivery errors above (the engine retries, not the sender)."""
        raise TemporaryDeliveryError(f"channel {self.kind} cannot send")

    def refused(self, rt, row: Delivery, error: str) -> Delivery | None:
        """The address refused for good (PermanentDeliveryError from `send`): react inside the failing transaction,
        e.g. unlink it; may return a fallback Delivery to enqueue after commit."""
        return None

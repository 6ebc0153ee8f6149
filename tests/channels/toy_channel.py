"""A channel defined entirely in the test suite: each notification is POSTed as JSON to a local HTTP endpoint.

Installed like any plugin, by naming this module in HELPDESK_CHANNELS (or registering CHANNEL). The endpoint's URL is
the binding's secret (`url_env`); the endpoint's HTTP status decides the delivery's fate: 2xx sent, 429 (with
Retry-After) and 5xx or no answer retried, any other 4xx failed for good.
"""
from __future__ import annotations

from typing import Literal

import requests
from pydantic import Field

from engine.catalog.schema import BindingBase
from engine.channel_protocol import Channel
from engine.channel_setup import binding_setting
from engine.errors import PermanentDeliveryError, TemporaryDeliveryError
from engine.ratelimit import Bucket

TOY_MAX = 200  # characters of one message the endpoint takes
TOY_PER_SECOND = 50  # messages per second to one address


class ToyBinding(BindingBase):
    """A `toy` binding: an HTTP endpoint receiving JSON."""

    kind: Literal["toy"]
    url_env: str = Field(description="Environment variable holding the endpoint's URL")


class ToyChannel(Channel):
    """Reaches a customer at their account's email address, through the first toy binding."""

    kind = "toy"
    binding_model = ToyBinding
    max_text_length = TOY_MAX

    def secret_env(self, binding: ToyBinding) -> str | None:
        return binding.url_env

    def targets(self, catalog, user, type_id, about_ticket) -> list[str]:
        if not catalog.bindings(kind=self.kind) or not user.email:
            return []  # not reachable on this channel
        return [user.email]

    def rate_buckets(self, policies, target: str) -> list[Bucket]:
        return [Bucket(f"ratelimit:toy:{target}", TOY_PER_SECOND, TOY_PER_SECOND)]

    def send(self, rt, outgoing) -> None:
        url = binding_setting(rt.settings.env, outgoing.binding_id, outgoing.binding)
        payload = {"delivery": outgoing.delivery_id, "to": outgoing.address, "subject": outgoing.subject, "text": outgoing.text}
        try:
            response = requests.post(url, json=payload, timeout=5)
        except requests.RequestException as exc:
            raise TemporaryDeliveryError(f"toy endpoint unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429:
            raise TemporaryDeliveryError("toy 429", retry_after=float(response.headers.get("Retry-After", "1")))
        if response.status_code >= 500:
            raise TemporaryDeliveryError(f"toy {response.status_code}")
        if response.status_code >= 400:
            raise PermanentDeliveryError(f"toy {response.status_code}: {response.text[:200]}")


CHANNEL = ToyChannel()

"""Render a notification type's templates for one channel (Jinja2 sandbox; HTML templates autoescaped)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from jinja2.sandbox import SandboxedEnvironment

from engine.catalog import Catalog
from engine.catalog.templates import TICKET_URL
from engine.catalog.texts import in_locale
from engine.channel_registry import registry
from engine.local_time import for_viewer, local_time_filter

_TEXT = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
_HTML = SandboxedEnvironment(autoescape=True)
for _env in (_TEXT, _HTML):
    _env.filters["local_time"] = local_time_filter
_HEADER_BREAKERS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True)
class Rendered:
    """What a channel sends: a one-line subject, the plain text, and HTML when the channel has it."""

    subject: str
    text: str
    html: str | None = None


def with_ticket_url(params: dict, public_url: str, ticket_number: int | None, staff: bool = False) -> dict:
    """A ticket notification's params plus `ticket_url`, the customer's page of the ticket (links back from every
    channel's message; with `staff`, the agent console's page); other notifications' params unchanged."""
    if ticket_number is None:
        return params
    return {**params, TICKET_URL: f"{public_url}{'/agent' if staff else ''}/tickets/{ticket_number}"}


def one_line(value: str) -> str:
    """Collapse CR, LF and other control characters: header-injection safe subjects and names."""
    return _HEADER_BREAKERS.sub(" ", value).strip()


@lru_cache(maxsize=2048)
def template(source: str, html: bool = False):
    """A compiled sandboxed template (HTML ones autoescape)."""
    return (_HTML if html else _TEXT).from_string(source)


def render_source(source: str, params: dict) -> str:
    return template(source, False).render(**params)


def fallback_text(spec, locale: str) -> str:
    """The text of a channel without a template of its own: the first text template (in kind order), else the title;
    in `locale` when written per locale."""
    found = next((value for value in dict(spec.templates).values() if isinstance(value, str) and value), spec.title)
    return in_locale(found, locale)


def render_text(spec, kind: str, params: dict, locale: str, max_length: int | None = None) -> Rendered:
    """A text channel's message in `locale`: its template (or the fallback) filled in, cut at `max_length` with "…"."""
    source = getattr(spec.templates, kind, None)
    chosen = in_locale(source, locale) if isinstance(source, str) and source else fallback_text(spec, locale)
    text = render_source(chosen, params).strip()
    if max_length is not None and len(text) > max_length:
        text = text[: max_length - 1] + "…"
    return Rendered(subject=one_line(in_locale(spec.title, locale)), text=text)


def render(catalog: Catalog, type_id: str, channel: str, params: dict, locale: str | None = None,
           time_zone: str | None = None) -> Rendered:
    """The message of `type_id` for the installed `channel` kind with `params` filled in, its times (`local_time`)
    in `time_zone` (default: `policies.time_zone`)."""
    installed = registry.get(channel)
    if installed is None:
        raise KeyError(f"no channel {channel!r} is installed")
    locale = locale or catalog.policies.default_locale
    return installed.render(catalog, type_id, for_viewer(params, time_zone or catalog.policies.time_zone, locale), locale)

"""Render a notification type's templates for one channel (Jinja2 sandbox; HTML email autoescaped)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from engine.catalog import Catalog

_TEXT = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
_HTML = SandboxedEnvironment(autoescape=True)
_HEADER_BREAKERS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
TELEGRAM_MAX = 4096  # Bot API limit of one message's text

_LAYOUT = _HTML.from_string(
    '<!doctype html><html lang="{{ locale }}"><head><meta charset="utf-8"><title>{{ subject }}</title></head>'
    '<body style="font-family:sans-serif;line-height:1.4">{{ body }}'
    '<hr><p style="color:#777;font-size:small">{{ footer }}</p></body></html>'
)


@dataclass(frozen=True)
class Rendered:
    """What a channel sends: a one-line subject (email), the plain text, and HTML for email."""

    subject: str
    text: str
    html: str | None = None


def one_line(value: str) -> str:
    """Collapse CR, LF and other control characters: header-injection safe subjects and names."""
    return _HEADER_BREAKERS.sub(" ", value).strip()


@lru_cache(maxsize=2048)
def _template(source: str, html: bool):
    return (_HTML if html else _TEXT).from_string(source)


def _text(source: str, params: dict) -> str:
    return _template(source, False).render(**params)


def render(catalog: Catalog, type_id: str, channel: str, params: dict, locale: str | None = None) -> Rendered:
    """The message of `type_id` for `channel` (web, telegram, email) with `params` filled in."""
    spec = catalog.notification_types[type_id]
    templates = spec.templates
    fallback = templates.web or templates.telegram or spec.title
    if channel == "email":
        return _email(catalog, spec, params, locale or catalog.policies.default_locale, fallback)
    source = (templates.telegram if channel == "telegram" else templates.web) or fallback
    text = _text(source, params).strip()
    if channel == "telegram" and len(text) > TELEGRAM_MAX:
        text = text[: TELEGRAM_MAX - 1] + "…"
    return Rendered(subject=one_line(spec.title), text=text)


def _email(catalog: Catalog, spec, params: dict, locale: str, fallback: str) -> Rendered:
    email = spec.templates.email
    subject = one_line(_text(email.subject if email else spec.title, params))
    text = _text(email.body if email else fallback, params).strip()
    footer = catalog.text(locale, "email", "footer")
    if email is not None and email.html:
        body = Markup(_template(email.html, True).render(**params))
    else:
        body = Markup('<div style="white-space:pre-wrap">%s</div>') % escape(text)
    html = _LAYOUT.render(locale=locale, subject=subject, body=body, footer=footer)
    return Rendered(subject=subject, text=f"{text}\n\n-- \n{footer}", html=html)

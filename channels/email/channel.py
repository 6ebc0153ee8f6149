"""The email channel: its binding and template keys, its addresses, its HTML rendering, SMTP sending."""
from __future__ import annotations

import re
from typing import Literal

from markupsafe import Markup, escape
from pydantic import Field

from channels.email.connections import SEND_TIMEOUT
from channels.email.sender import send_email
from engine.catalog.schema import EMAIL_PATTERN, BindingBase, Strict, Text
from engine.catalog.texts import in_locale
from engine.channel_protocol import Channel
from engine.forms import undeliverable
from engine.render import Rendered, fallback_text, one_line, render_source, template

_LAYOUT = template(
    '<!doctype html><html lang="{{ locale }}"><head><meta charset="utf-8"><title>{{ subject }}</title></head>'
    '<body style="font-family:sans-serif;line-height:1.4">{{ body }}'
    '<hr><p style="color:#777;font-size:small">{{ footer }}</p></body></html>',
    html=True,
)


_ADDRESS = re.compile(EMAIL_PATTERN)
_URL = re.compile(r"https?://(?:(?!&#)[^\s<>])+")


def linked(text: str) -> Markup:
    """The text escaped for HTML, its http(s) links clickable (e.g. a ticket notification's `ticket_url`)."""
    escaped = str(escape(text))
    return Markup(_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))


class EmailBinding(BindingBase):
    """An `email` binding: the SMTP server notifications are sent through."""

    kind: Literal["email"]
    smtp_url_env: str | None = Field(None, description="Environment variable with smtp://user:pass@host:port")
    from_address: str | None = Field(None, description="The From header")


class EmailTemplate(Strict):
    subject: Text
    body: Text = Field(description="Plain text body (Jinja2, sandboxed); one string, or one per locale")
    html: Text | None = Field(None, description="HTML body (autoescaped), or one per locale; default: the text body in <pre>")


class EmailChannel(Channel):
    """The account's address and its extra notification addresses; a 5xx from the server fails the delivery."""

    kind = "email"
    binding_model = EmailBinding
    template_type = EmailTemplate
    send_timeout = SEND_TIMEOUT  # one message on a kept connection, or connecting first (channels/email/connections.py)

    def secret_env(self, binding: EmailBinding) -> str | None:
        return binding.smtp_url_env

    def binding_problems(self, binding: EmailBinding) -> list[str]:
        if binding.smtp_url_env:
            return []
        return ["an email binding needs smtp_url_env (the variable holding the SMTP URL)"]

    def address_problems(self, address: str) -> list[str]:
        return [] if _ADDRESS.match(address) else [f"'{address}' is not an email address"]

    def targets(self, catalog, user, type_id, about_ticket) -> list[str]:
        """The account's address and its extra notification addresses, when an email binding exists."""
        if not catalog.bindings(kind=self.kind):
            return []
        return [a for a in dict.fromkeys([user.email, *(user.notify_emails or [])]) if a and not undeliverable(a)]

    def render(self, catalog, type_id, params, locale) -> Rendered:
        """Subject, the text body with the footer, and HTML (the type's html template, or the text) in the layout."""
        spec = catalog.notification_types[type_id]
        email = spec.templates.email
        subject = one_line(render_source(in_locale(email.subject if email else spec.title, locale), params))
        text = render_source(in_locale(email.body, locale) if email else fallback_text(spec, locale), params).strip()
        footer = catalog.text(locale, "email", "footer")
        if email is not None and email.html:
            body = Markup(template(in_locale(email.html, locale), True).render(**params))
        else:
            body = Markup('<div style="white-space:pre-wrap">%s</div>') % linked(text)
        html = _LAYOUT.render(locale=locale, subject=subject, body=body, footer=footer)
        return Rendered(subject=subject, text=f"{text}\n\n-- \n{footer}", html=html)

    def send(self, rt, outgoing) -> None:
        send_email(rt, outgoing)


CHANNEL = EmailChannel()

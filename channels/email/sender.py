"""SMTP delivery: plain text + HTML multipart to SMTP_URL (smtp://, smtps://, ?starttls=1): the email channel's sender."""
from __future__ import annotations

import smtplib
import socket
import ssl
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from engine.channel_setup import binding_setting
from engine.errors import PermanentDeliveryError, TemporaryDeliveryError
from engine.logsafe import add_secret
from engine.render import one_line
from engine.senders import Outgoing

SMTP_TIMEOUT = 30  # seconds; shorter than the delivery lease so a hung server becomes a retry, not a double send


def _address(name: str, addr_spec: str) -> Address:
    """A header address with the display name forced to one line; PermanentDeliveryError if the address is invalid."""
    try:
        return Address(display_name=one_line(name), addr_spec=one_line(addr_spec))
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise PermanentDeliveryError(f"invalid email address {addr_spec!r}") from exc


def build_message(outgoing: Outgoing, sender_name: str = "") -> EmailMessage:
    """The multipart/alternative message; every header value is forced to one line."""
    message = EmailMessage()
    message["Subject"] = one_line(outgoing.subject)
    message["From"] = _address(sender_name, outgoing.binding.from_address or "helpdesk@localhost")
    message["To"] = _address(outgoing.name, outgoing.address)
    message["Message-ID"] = make_msgid(idstring=f"delivery-{outgoing.delivery_id}")
    message.set_content(outgoing.text)
    if outgoing.html:
        message.add_alternative(outgoing.html, subtype="html")
    return message


def _connect(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise PermanentDeliveryError(f"SMTP URL scheme must be smtp or smtps, not {parts.scheme!r}")
    host = parts.hostname or "localhost"
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(host, parts.port or 465, timeout=SMTP_TIMEOUT, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT)
        if parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes"):
            client.starttls(context=ssl.create_default_context())
    if parts.username:
        client.login(unquote(parts.username), unquote(parts.password or ""))
    return client


def send_email(rt, outgoing: Outgoing) -> None:
    """Send one rendered notification; SMTP 5xx -> PermanentDeliveryError, 4xx/network -> TemporaryDeliveryError,
    the binding's smtp_url_env unset -> ChannelNotConfigured."""
    if "@" not in outgoing.address or any(c in outgoing.address for c in "\r\n"):
        raise PermanentDeliveryError(f"invalid email address {outgoing.address!r}")
    url = binding_setting(rt.settings.env, outgoing.binding_id, outgoing.binding)
    password = urlsplit(url).password or ""  # whatever the variable's name, its password never reaches a log
    add_secret(password)
    add_secret(unquote(password))
    # The From display name: the UI text email.sender_name in the recipient's locale.
    message = build_message(outgoing, rt.catalog.text(outgoing.locale, "email", "sender_name"))
    try:
        with _connect(url) as client:
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code = min(code for code, _ in exc.recipients.values())
        raise (PermanentDeliveryError if code >= 500 else TemporaryDeliveryError)(f"SMTP refused recipient: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
        raise (PermanentDeliveryError if exc.smtp_code >= 500 else TemporaryDeliveryError)(error) from exc
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise TemporaryDeliveryError(f"SMTP unavailable: {type(exc).__name__}: {exc}") from exc


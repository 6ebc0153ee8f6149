"""SMTP delivery: plain text + HTML multipart to SMTP_URL (smtp://, smtps://, ?starttls=1): the email channel's sender."""
from __future__ import annotations

import smtplib
import socket
import time
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from channels.email.connections import CONNECTIONS, SEND_TIMEOUT
from engine.channel_setup import binding_setting
from engine.errors import PermanentDeliveryError, TemporaryDeliveryError
from engine.logsafe import add_secret
from engine.render import one_line
from engine.senders import Outgoing



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
        _send_on_kept_connection(url, message)
    except smtplib.SMTPRecipientsRefused as exc:
        code = min(code for code, _ in exc.recipients.values())
        raise (PermanentDeliveryError if code >= 500 else TemporaryDeliveryError)(f"SMTP refused recipient: {exc.recipients}") from exc
    except smtplib.SMTPResponseException as exc:
        error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
        raise (PermanentDeliveryError if exc.smtp_code >= 500 else TemporaryDeliveryError)(error) from exc
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise TemporaryDeliveryError(f"SMTP unavailable: {type(exc).__name__}: {exc}") from exc


def _send_on_kept_connection(url: str, message: EmailMessage) -> None:
    """Send on this thread's kept connection to `url` within SEND_TIMEOUT and raise what failed (the delivery is
    retried, never resent here); the connection is dropped unless the server refused in a session it keeps."""
    client = CONNECTIONS.client(url, time.monotonic() + SEND_TIMEOUT)
    try:
        client.send_message(message)
    except BaseException as exc:
        if _session_intact(exc):
            CONNECTIONS.done(url)
        else:
            CONNECTIONS.discard(url)
        raise
    CONNECTIONS.done(url)


def _session_intact(exc: BaseException) -> bool:
    """A refusal the server answered and smtplib followed with RSET; 421 means the server is closing."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code != 421

"""Send a text (with optional inline buttons) to a Telegram chat; failures become delivery errors."""
from __future__ import annotations

import threading

import requests
from telebot import TeleBot
from telebot.apihelper import ApiHTTPException, ApiTelegramException

from channels.telegram.channel import SEND_TIMEOUT
from channels.telegram.client import bot_for_binding
from channels.telegram.keyboards import Rows, markup, ticket_rows
from channels.telegram.texts import split_text
from engine.errors import PermanentDeliveryError, TemporaryDeliveryError
from engine.store.models import Delivery

PERMANENT_400 = ("chat not found", "user not found", "chat_id is empty", "peer_id_invalid", "bot can't initiate")

_bots: dict[tuple[str, str], TeleBot] = {}
_bots_lock = threading.Lock()


def _bot(rt, binding_id: str) -> TeleBot:
    binding = rt.catalog.channels.get(binding_id)
    if binding is None or binding.kind != "telegram":
        raise PermanentDeliveryError(f"no telegram binding '{binding_id}' in the current config")
    key = (rt.settings.telegram_api_url, binding_id)
    with _bots_lock:
        if key not in _bots:
            _bots[key] = bot_for_binding(rt.settings, binding_id, binding)
        return _bots[key]


def classify(exc: Exception) -> Exception:
    """Map a telebot/requests failure to TemporaryDeliveryError (retry) or PermanentDeliveryError (stop)."""
    if isinstance(exc, ApiTelegramException):
        code, description = exc.error_code, str(exc.description)
        if code == 429:
            retry_after = (exc.result_json.get("parameters") or {}).get("retry_after")
            return TemporaryDeliveryError(f"telegram 429: {description}", retry_after=retry_after)
        if code == 403 or (code == 400 and any(p in description.lower() for p in PERMANENT_400)):
            return PermanentDeliveryError(f"telegram {code}: {description}")
        if code >= 500:
            return TemporaryDeliveryError(f"telegram {code}: {description}")
        return PermanentDeliveryError(f"telegram {code}: {description}")
    if isinstance(exc, ApiHTTPException):
        status = getattr(exc.result, "status_code", 0)
        cls = TemporaryDeliveryError if status >= 500 or status == 429 else PermanentDeliveryError
        return cls(f"telegram HTTP {status}")
    if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
        return TemporaryDeliveryError(f"telegram unreachable: {exc.__class__.__name__}")
    return exc


def send_text(bot: TeleBot, chat_id: int, text: str, buttons: Rows | None = None) -> list:
    """Send `text` split at Telegram's limit (buttons under the last part); raises delivery errors."""
    chunks = split_text(text)
    sent = []
    try:
        for i, chunk in enumerate(chunks):
            keyboard = markup(buttons) if i == len(chunks) - 1 else None
            sent.append(bot.send_message(chat_id, chunk, reply_markup=keyboard, timeout=SEND_TIMEOUT))
    except Exception as exc:  # translate the transport's errors, re-raise anything else unchanged
        translated = classify(exc)
        if translated is exc:
            raise
        raise translated from exc
    return sent


def send_telegram(rt, binding_id: str, chat_id: int, text: str, buttons: Rows | None = None, notification=None) -> None:
    """Deliver a rendered notification through a bot binding.

    When the notification belongs to a ticket that is still open and the binding serves tickets
    (the support bot), the ticket's "Добавить ответ" / "Добавить в архив" buttons are added.
    Raises TemporaryDeliveryError (429 with retry_after, 5xx, timeouts) or PermanentDeliveryError
    (403 blocked, 400 chat not found, unknown binding).
    """
    if buttons is None and notification is not None:
        buttons = notification_buttons(rt, binding_id, notification)
    send_text(_bot(rt, binding_id), int(chat_id), text, buttons)


def notification_buttons(rt, binding_id: str, notification) -> Rows | None:
    """The ticket buttons for a ticket notification sent by a ticket-serving bot, else None."""
    binding = rt.catalog.channels.get(binding_id)
    ticket = getattr(notification, "ticket", None)
    if binding is None or "tickets" not in binding.serves or ticket is None or ticket.status == "archived":
        return None
    locale = getattr(notification.user, "locale", None) or rt.catalog.policies.default_locale
    return ticket_rows(rt.catalog, locale, ticket.number)


def send_outgoing(rt, outgoing) -> None:
    """The telegram channel's sender: an engine.senders.Outgoing (address = chat id) through its bot binding."""
    delivery = Delivery.get_or_none(Delivery.id == outgoing.delivery_id)
    buttons = notification_buttons(rt, outgoing.binding_id, delivery.notification) if delivery else None
    send_telegram(rt, outgoing.binding_id, int(outgoing.address), outgoing.text, buttons)


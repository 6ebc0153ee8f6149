"""Send or edit a text (with optional inline buttons) in a Telegram chat: split into messages, each paced through
Redis (channels.telegram.pace); failures become delivery errors."""
from __future__ import annotations

import contextlib
import threading
import time
from contextvars import ContextVar
from functools import partial
from typing import Callable, Iterator, TypeVar

import requests
from redis.exceptions import RedisError
from telebot import TeleBot
from telebot.apihelper import ApiHTTPException, ApiTelegramException

from channels.telegram import botapi, pace
from channels.telegram.channel import MAX_TEXT, SEND_TIMEOUT
from channels.telegram.client import bot_for_binding
from channels.telegram.keyboards import Rows, ticket_rows
from engine.errors import DeliveryPostponed, PermanentDeliveryError, TemporaryDeliveryError
from engine.pacing import Slot, pacer_for
from engine.text_split import split_text

T = TypeVar("T")

MAX_WAIT = 3.5  # seconds a send may sleep for its slot: a group chat's per-minute spacing (3.1 s) fits
SLEEP_GRAIN = 0.001  # a slot due sooner is taken at once (a sleep yields the thread: milliseconds on a busy host)
REDIS_WAIT = 5.0  # seconds to postpone when the shared schedule (Redis) is unreachable
PERMANENT_400 = ("chat not found", "user not found", "chat_id is empty", "peer_id_invalid", "bot can't initiate")

_bots: dict[tuple[str, str], TeleBot] = {}
_bots_lock = threading.Lock()


def bot_of(rt, binding_id: str) -> TeleBot:
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


class LateReleases:
    """Pacing slots whose sends have completed, released by the next reservation of the same batch of updates or at
    its end: one Redis script per send instead of two. A chat's lane stays held until then (milliseconds in a busy
    bot; at most until the batch ends, when its last updates are slow), which only spaces the chat's next send a
    little more (a worker's notification to it is postponed meanwhile); nothing else of the pacing changes."""

    def __init__(self):
        self._slots: list[Slot] = []
        self._lock = threading.Lock()

    def add(self, slots: list[Slot]) -> None:
        with self._lock:
            self._slots += slots

    def take(self) -> list[Slot]:
        with self._lock:
            slots, self._slots = self._slots, []
        return slots

    @contextlib.contextmanager
    def collecting(self) -> Iterator[None]:
        """The sends of this thread (`paced`) leave their releases here."""
        mark = _late.set(self)
        try:
            yield
        finally:
            _late.reset(mark)


_late: ContextVar[LateReleases | None] = ContextVar("late_releases", default=None)


def paced(rt, bot: TeleBot, chat_id: int, call: Callable[[], T], max_wait: float = MAX_WAIT,
          behind_outbox: bool = False) -> T:
    """Run one Bot API call in the chat's next slot (channels.telegram.pace), sleeping up to `max_wait` for it.

    DeliveryPostponed(wait) when the slot is further away, or (`behind_outbox`) the chat has queued replies (or Redis
    is unreachable: no shared schedule to keep); a 429 pauses the whole bot for its retry_after, for every process,
    and is raised as TemporaryDeliveryError. Within `LateReleases.collecting` the slot is released late."""
    route = pace.route(rt.catalog.policies.telegram_rate, bot.token, chat_id, behind_outbox)
    late = _late.get()
    releasing = late.take() if late is not None else []
    try:
        pacer = pacer_for(rt.redis)
        slot = pacer.reserve(route, max_wait, hold=SEND_TIMEOUT + max_wait + 1, releasing=releasing)
    except RedisError as exc:
        if late is not None:
            late.add(releasing)  # not released: the batch's end tries again
        raise DeliveryPostponed(REDIS_WAIT) from exc
    if not slot.reserved:
        raise DeliveryPostponed(slot.wait)  # also when queued: the reply goes behind the chat's queued ones
    try:
        if slot.wait > SLEEP_GRAIN:
            time.sleep(slot.wait)
        return call()
    except Exception as exc:  # translate the transport's errors, re-raise anything else unchanged
        translated = classify(exc)
        if isinstance(translated, TemporaryDeliveryError) and translated.retry_after:
            with contextlib.suppress(RedisError):
                pacer.pause(route.pauses[0], translated.retry_after)
        if translated is exc:
            raise
        raise translated from exc
    finally:
        if late is not None:
            late.add([slot])
        else:
            with contextlib.suppress(RedisError):
                pacer.release(route, slot)


def send_text(rt, bot: TeleBot, chat_id: int, text: str, buttons: Rows | None = None, *, first: int = 0,
              sent: Callable[[int], None] | None = None, max_wait: float = MAX_WAIT, behind_outbox: bool = False) -> list:
    """Send `text` split at Telegram's limit, each part paced (buttons under the last part); raises delivery errors.
    Returns the Messages sent (Bot API JSON).

    `first` skips parts already sent by an earlier try; `sent(n)` is told after each part that n parts are out;
    `behind_outbox`: a bot reply, which waits behind the chat's queued replies (DeliveryPostponed)."""
    parts = split_text(text, MAX_TEXT)
    messages = []
    for i in range(first, len(parts)):
        rows = buttons if i == len(parts) - 1 else None
        messages.append(paced(rt, bot, chat_id, partial(botapi.send_message, bot.token, chat_id, parts[i], rows,
                                                        SEND_TIMEOUT), max_wait, behind_outbox))
        if sent is not None:
            sent(i + 1)
    return messages


def edit_text(rt, bot: TeleBot, chat_id: int, message_id: int, text: str, buttons: Rows | None = None, *,
              sent: Callable[[int], None] | None = None, max_wait: float = MAX_WAIT, behind_outbox: bool = False) -> list:
    """Edit a message to `text`'s first part; the other parts follow as new messages (buttons under the last).
    An ApiTelegramException 400 (not editable, not modified) is raised as it came: the caller decides."""
    parts = split_text(text, MAX_TEXT)
    rows = buttons if len(parts) == 1 else None
    try:
        paced(rt, bot, chat_id, partial(botapi.edit_message_text, bot.token, chat_id, message_id, parts[0], rows,
                                        SEND_TIMEOUT), max_wait, behind_outbox)
    except PermanentDeliveryError as exc:
        if isinstance(exc.__cause__, ApiTelegramException) and exc.__cause__.error_code == 400:
            raise exc.__cause__ from None
        raise
    if sent is not None:
        sent(1)
    return send_text(rt, bot, chat_id, text, buttons, first=1, sent=sent, max_wait=max_wait,
                     behind_outbox=behind_outbox)


def send_telegram(rt, binding_id: str, chat_id: int, text: str, buttons: Rows | None = None, notification=None) -> None:
    """Send a text through a bot binding, split and paced.

    When the notification belongs to a ticket that is still open and the binding serves tickets
    (the support bot), the ticket's "Добавить ответ" / "Добавить в архив" buttons are added.
    Raises DeliveryPostponed (not its slot yet), TemporaryDeliveryError (429 with retry_after, 5xx, timeouts) or
    PermanentDeliveryError (403 blocked, 400 chat not found, unknown binding).
    """
    if buttons is None and notification is not None:
        buttons = notification_buttons(rt, binding_id, notification)
    send_text(rt, bot_of(rt, binding_id), int(chat_id), text, buttons)


def notification_buttons(rt, binding_id: str, notification) -> Rows | None:
    """The ticket buttons for a ticket notification sent by a ticket-serving bot, else None."""
    binding = rt.catalog.channels.get(binding_id)
    ticket = getattr(notification, "ticket", None)
    if binding is None or "tickets" not in binding.serves or ticket is None or ticket.status == "archived":
        return None
    spec = rt.catalog.notification_types.get(notification.type_id)
    if spec is None or spec.source == "staff":  # the customer's buttons; staff work the ticket in the console
        return None
    locale = getattr(notification.user, "locale", None) or rt.catalog.policies.default_locale
    return ticket_rows(rt.catalog, locale, ticket.number)

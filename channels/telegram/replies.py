"""A conversation's replies out to the chat: sent or edited in place, retried after 429, callback queries answered."""
from __future__ import annotations

import logging
import time

from telebot import TeleBot
from telebot.apihelper import ApiTelegramException

from engine import accounts
from engine.errors import PermanentDeliveryError, TemporaryDeliveryError

from channels.telegram.bindings import BotBindings
from channels.telegram.events import Reply
from channels.telegram.keyboards import markup
from channels.telegram.sender import SEND_TIMEOUT, classify, send_text

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 3
MAX_RETRY_WAIT = 10.0  # seconds a conversation reply may wait for Telegram's 429 retry_after


class ReplySender:
    """Sends one bot's conversation replies."""

    def __init__(self, bot: TeleBot, bindings: BotBindings):
        self.bot = bot
        self.bindings = bindings

    def deliver(self, replies: list[Reply], chat_id: int, call) -> None:
        """Send every reply with text; a chat that refused us for good has its links deactivated."""
        for reply in replies:
            if not reply.text:
                continue
            try:
                self._send_with_retry(reply, chat_id, call)
            except PermanentDeliveryError as exc:
                log.info("telegram %s: chat %s unreachable (%s); link deactivated", self.bindings.primary, chat_id, exc)
                for binding in self.bindings.binding_ids:
                    accounts.unlink(binding, chat_id, str(exc))
                return
            except TemporaryDeliveryError as exc:
                log.warning("telegram %s: reply to %s lost: %s", self.bindings.primary, chat_id, exc)

    def _send_with_retry(self, reply: Reply, chat_id: int, call) -> None:
        for attempt in range(SEND_ATTEMPTS):
            try:
                if reply.edit and call is not None and self._edit(reply, call):
                    return
                send_text(self.bot, chat_id, reply.text, reply.buttons)
                return
            except TemporaryDeliveryError as exc:
                if attempt == SEND_ATTEMPTS - 1 or (exc.retry_after or 1) > MAX_RETRY_WAIT:
                    raise
                time.sleep(exc.retry_after or 1)

    def _edit(self, reply: Reply, call) -> bool:
        """Edit the pressed message in place; False when Telegram will not (then a new message is sent)."""
        try:
            self.bot.edit_message_text(reply.text[:4096], call.message.chat.id, call.message.message_id,
                                       reply_markup=markup(reply.buttons), timeout=SEND_TIMEOUT)
            return True
        except ApiTelegramException as exc:
            if "not modified" in str(exc.description):
                return True
            translated = classify(exc)
            if isinstance(translated, (TemporaryDeliveryError, PermanentDeliveryError)) and exc.error_code != 400:
                raise translated from exc
            return False

    def answer_callback(self, call, replies: list[Reply]) -> None:
        """Every callback query is answered, or the user's button keeps spinning: an alert, a toast or nothing."""
        alert = next((r.alert for r in replies if r.alert), None)
        toast = next((r.toast for r in replies if r.toast), None)
        self.answer(call, alert or toast, show_alert=bool(alert))

    def answer(self, call, text: str | None, show_alert: bool = False) -> None:
        try:
            self.bot.answer_callback_query(call.id, text=text[:200] if text else None, show_alert=show_alert)
        except Exception as exc:  # an expired query id is not worth more than a log line
            log.info("telegram %s: answerCallbackQuery failed: %s", self.bindings.primary, exc)

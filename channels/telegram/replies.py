"""A conversation's replies out to the chat: paced, split, sent or edited in place; queued when they cannot go now;
callback queries answered."""
from __future__ import annotations

import logging
import time

from telebot import TeleBot
from telebot.apihelper import ApiTelegramException

from engine import accounts
from engine.errors import DeliveryPostponed, PermanentDeliveryError, TemporaryDeliveryError

from channels.telegram import botapi, outbox
from channels.telegram.bindings import BotBindings
from channels.telegram.channel import SEND_TIMEOUT
from channels.telegram.events import Reply
from channels.telegram.sender import MAX_WAIT, edit_text, send_text

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 3  # tries of a reply in the conversation (5xx, timeouts) before it is queued


class ReplySender:
    """Sends one bot's conversation replies."""

    def __init__(self, bot: TeleBot, bindings: BotBindings):
        self.bot = bot
        self.bindings = bindings

    def deliver(self, replies: list[Reply], chat_id: int, call) -> None:
        """Send every reply with text, in order; what cannot go now is queued (outbox) with everything after it.
        A chat that refused us for good has its links deactivated."""
        rt = self.bindings.rt
        texts = [reply for reply in replies if reply.text]
        for i, reply in enumerate(texts):
            progress = [0]
            try:
                self._send_with_retry(reply, chat_id, call, progress)
            except PermanentDeliveryError as exc:
                log.info("telegram %s: chat %s unreachable (%s); link deactivated", self.bindings.primary, chat_id, exc)
                for binding in self.bindings.binding_ids:
                    accounts.unlink(binding, chat_id, str(exc))
                return
            except TemporaryDeliveryError as exc:
                log.info("telegram %s: reply to %s queued (%s)", self.bindings.primary, chat_id, exc)
                outbox.push(rt, self.bindings.primary, self.bot.token, chat_id,
                            [(r.text, r.buttons) for r in texts[i:]], first_part=progress[0], delay=exc.retry_after or 0)
                return

    def _send_with_retry(self, reply: Reply, chat_id: int, call, progress: list[int]) -> None:
        """A few quick tries; a wait longer than a conversation can hold (a flood wait, pacing) raises at once."""
        rt = self.bindings.rt
        for attempt in range(SEND_ATTEMPTS):
            try:
                if reply.edit and call is not None and progress[0] == 0 and self._edit(reply, call, progress):
                    return
                send_text(rt, self.bot, chat_id, reply.text, reply.buttons, first=progress[0],
                          sent=lambda n: progress.__setitem__(0, n), behind_outbox=True)
                return
            except DeliveryPostponed:
                raise
            except TemporaryDeliveryError as exc:
                if attempt == SEND_ATTEMPTS - 1 or (exc.retry_after or 0) > MAX_WAIT:
                    raise
                time.sleep(0 if exc.retry_after else 1)  # a flood wait is slept by the pacing, which knows the pause

    def _edit(self, reply: Reply, call, progress: list[int]) -> bool:
        """Edit the pressed message in place (a long text: its first part, the rest sent after it); False when
        Telegram will not edit (then a new message is sent)."""
        try:
            edit_text(self.bindings.rt, self.bot, call.message.chat.id, call.message.message_id, reply.text, reply.buttons,
                      sent=lambda n: progress.__setitem__(0, n), behind_outbox=True)
            return True
        except ApiTelegramException as exc:  # only 400s come through: not editable, or not modified
            return "not modified" in str(exc.description)

    def answer_callback(self, call, replies: list[Reply]) -> None:
        """Every callback query is answered, or the user's button keeps spinning: an alert, a toast or nothing."""
        alert = next((r.alert for r in replies if r.alert), None)
        toast = next((r.toast for r in replies if r.toast), None)
        self.answer(call, alert or toast, show_alert=bool(alert))

    def answer(self, call, text: str | None, show_alert: bool = False) -> None:
        try:
            botapi.answer_callback_query(self.bot.token, call.id, text[:200] if text else None, show_alert, SEND_TIMEOUT)
        except Exception as exc:  # an expired query id is not worth more than a log line
            log.info("telegram %s: answerCallbackQuery failed: %s", self.bindings.primary, exc)

"""One bot token at work: telebot updates -> Incoming -> conversation -> replies, with state in the database."""
from __future__ import annotations

import contextlib
import logging
import time

from redis.exceptions import RedisError
from telebot import TeleBot, types
from telebot.apihelper import ApiTelegramException

from engine import accounts
from engine.errors import PermanentDeliveryError, TemporaryDeliveryError

from channels.telegram import conversation, state as state_store
from channels.telegram.client import BotConfigError, make_bot, token_for
from channels.telegram.collect import FileTooBig
from channels.telegram.events import Ctx, FileRef, Incoming, Reply
from channels.telegram.keyboards import markup
from channels.telegram.sender import SEND_TIMEOUT, classify, send_text

log = logging.getLogger(__name__)

CONTENT_TYPES = ["text", "photo", "document", "audio", "video", "voice", "sticker", "animation", "video_note",
                 "contact", "location"]
COMMANDS = ("createticket", "tickets", "archive", "help", "cancel")
SEND_ATTEMPTS = 3
MAX_RETRY_WAIT = 10.0  # seconds a conversation reply may wait for Telegram's 429 retry_after


class BotApp:
    """The handlers of one token; `binding_ids` are the bindings that share it (support and/or notifications)."""

    def __init__(self, rt, token: str, binding_ids: list[str]):
        self.rt = rt
        self.token = token
        self.binding_ids = tuple(binding_ids)
        self.bot: TeleBot = make_bot(rt.settings, token)
        self.bot.message_handler(content_types=CONTENT_TYPES)(self._on_message)
        self.bot.callback_query_handler(func=lambda call: True)(self._on_callback)

    @classmethod
    def for_binding(cls, rt, binding_id: str) -> "BotApp":
        """The app of the token `binding_id` uses, covering every binding with that token."""
        bindings = rt.catalog.bindings(kind="telegram")
        token = token_for(rt.settings, binding_id, bindings[binding_id])
        same = [b for b, spec in bindings.items() if spec.token_env and _token_or_none(rt, b, spec) == token]
        return cls(rt, token, same)

    @property
    def names(self) -> str:
        return ", ".join(self.binding_ids)

    @property
    def serves_tickets(self) -> bool:
        bindings = self.rt.catalog.channels
        return any("tickets" in bindings[b].serves for b in self.binding_ids if b in bindings)

    @property
    def primary(self) -> str:
        """The binding that owns conversation state and update ids (the ticket-serving one when shared)."""
        bindings = self.rt.catalog.channels
        return next((b for b in self.binding_ids if b in bindings and "tickets" in bindings[b].serves), self.binding_ids[0])

    # --- start-up -------------------------------------------------------------------------------

    def check(self) -> dict:
        """getMe; a missing, wrong or unreachable token becomes a BotConfigError naming the binding."""
        try:
            me = self.bot.get_me()
        except ApiTelegramException as exc:
            raise BotConfigError(f"telegram binding '{self.names}': Telegram refused the token "
                                 f"({exc.error_code} {exc.description})") from None
        except Exception as exc:  # the server is unreachable: same clear message, whatever the transport said
            raise BotConfigError(f"telegram binding '{self.names}': Bot API server "
                                 f"{self.rt.settings.telegram_api_url} unreachable ({exc.__class__.__name__})") from None
        return {"id": me.id, "username": me.username}

    def set_commands(self) -> None:
        """The Menu button: commands and their descriptions from the catalog's UI texts, per locale."""
        if not self.serves_tickets:
            return
        catalog = self.rt.catalog
        for locale in catalog.ui:
            commands = [types.BotCommand(c, catalog.text(locale, "telegram", f"cmd_{c}")) for c in COMMANDS]
            if locale == catalog.policies.default_locale:
                self.bot.set_my_commands(commands)
            self.bot.set_my_commands(commands, language_code=locale)

    # --- updates ----------------------------------------------------------------------------------

    def handle_update(self, update: types.Update) -> bool:
        """Handle one update once: False when this update_id was already handled (a repeated delivery)."""
        if not state_store.claim_update(self.rt.db, self.primary, update.update_id):
            return False
        self.bot.process_new_updates([update])
        return True

    def _on_message(self, message: types.Message) -> None:
        self._run(message.chat, message.from_user, incoming_of(message), None)

    def _on_callback(self, call: types.CallbackQuery) -> None:
        if call.message is None:  # a button under an inline-mode message: nothing of ours
            return self._answer(call, None)
        self._run(call.message.chat, call.from_user, Incoming("button", data=call.data or ""), call)

    def _run(self, chat: types.Chat, sender: types.User, incoming: Incoming, call) -> None:
        ctx = None
        try:
            with self._chat_lock(chat.id):
                state = state_store.load(self.primary, chat.id)
                ctx = self._context(chat, sender)
                try:
                    conversation.handle(ctx, state, incoming)
                except Exception:  # a bug must not kill the bot: tell the user, keep the state as it was
                    log.exception("telegram %s: update failed", self.primary)
                    ctx.replies = [Reply(ctx.t("something_wrong"))]
                else:
                    state_store.save(self.primary, chat.id, state)
            self._deliver(ctx, chat.id, call)
        finally:
            if call is not None:
                replies = ctx.replies if ctx else []
                alert = next((r.alert for r in replies if r.alert), None)
                toast = next((r.toast for r in replies if r.toast), None)
                self._answer(call, alert or toast, show_alert=bool(alert))

    def _context(self, chat: types.Chat, sender: types.User) -> Ctx:
        user = None
        for binding in dict.fromkeys((self.primary, *self.binding_ids)):
            user = accounts.linked_user(binding, chat.id, sender.id)
            if user is not None:
                break
        catalog = self.rt.catalog
        language = (sender.language_code or "")[:2]
        locale = user.locale if user else (language if language in catalog.ui else catalog.policies.default_locale)
        return Ctx(rt=self.rt, binding_id=self.primary, binding_ids=self.binding_ids, chat_id=chat.id,
                   chat_type=chat.type, tg_user_id=sender.id, tg_username=sender.username, locale=locale, user=user,
                   serves_tickets=self.serves_tickets, fetch=self.fetch)

    @contextlib.contextmanager
    def _chat_lock(self, chat_id: int):
        """Serialize one chat's updates across processes (webhooks behind several web workers)."""
        try:
            lock = self.rt.redis.lock(f"tg:chat:{self.primary}:{chat_id}", timeout=120, blocking_timeout=60)
            acquired = lock.acquire()
        except RedisError:  # Redis down: carry on unlocked rather than stop answering
            lock, acquired = None, False
        try:
            yield
        finally:
            if acquired:
                with contextlib.suppress(RedisError):
                    lock.release()

    # --- replies -------------------------------------------------------------------------------------

    def _deliver(self, ctx: Ctx, chat_id: int, call) -> None:
        for reply in ctx.replies:
            if not reply.text:
                continue
            try:
                self._send_with_retry(reply, chat_id, call)
            except PermanentDeliveryError as exc:
                log.info("telegram %s: chat %s unreachable (%s); link deactivated", self.primary, chat_id, exc)
                for binding in self.binding_ids:
                    accounts.unlink(binding, chat_id, str(exc))
                return
            except TemporaryDeliveryError as exc:
                log.warning("telegram %s: reply to %s lost: %s", self.primary, chat_id, exc)

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

    def _answer(self, call, text: str | None, show_alert: bool = False) -> None:
        """Every callback query is answered, or the user's button keeps spinning."""
        try:
            self.bot.answer_callback_query(call.id, text=text[:200] if text else None, show_alert=show_alert)
        except Exception as exc:  # an expired query id is not worth more than a log line
            log.info("telegram %s: answerCallbackQuery failed: %s", self.primary, exc)

    def fetch(self, ref: FileRef) -> bytes:
        try:
            info = self.bot.get_file(ref.file_id)
            return self.bot.download_file(info.file_path)
        except ApiTelegramException as exc:
            if "too big" in str(exc.description):
                raise FileTooBig(ref.name) from None
            raise


def _token_or_none(rt, binding_id, spec) -> str | None:
    try:
        return token_for(rt.settings, binding_id, spec)
    except BotConfigError:
        return None


def incoming_of(message: types.Message) -> Incoming:
    """Turn a telebot Message into what the conversation understands."""
    text = message.text or ""
    if text.startswith("/"):
        head, _, payload = text.partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        return Incoming("command", text=text, command=command, payload=payload.strip())
    if message.content_type == "text":
        return Incoming("text", text=text)
    caption = message.caption or ""
    if message.content_type == "photo" and message.photo:
        largest = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        ref = FileRef(largest.file_id, f"photo_{largest.file_unique_id}.jpg", "image/jpeg", largest.file_size,
                      message.media_group_id)
        return Incoming("file", text=caption, file=ref)
    if message.content_type == "document" and message.document:
        doc = message.document
        ref = FileRef(doc.file_id, doc.file_name or f"document_{doc.file_unique_id}", doc.mime_type, doc.file_size,
                      message.media_group_id)
        return Incoming("file", text=caption, file=ref)
    return Incoming("other", text=caption)

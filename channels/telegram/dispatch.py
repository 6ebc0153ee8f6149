"""One update of one chat: telebot objects -> Incoming, then under the chat's lock: state, conversation, replies."""
from __future__ import annotations

import logging
from typing import Callable

from telebot import types

from engine import accounts

from channels.telegram import conversation, state as state_store
from channels.telegram.albums import AlbumCollector
from channels.telegram.bindings import BotBindings
from channels.telegram.chat_lock import chat_lock
from channels.telegram.events import Ctx, FileRef, Incoming, Reply
from channels.telegram.replies import ReplySender

log = logging.getLogger(__name__)


class Dispatcher:
    """Runs the conversation for messages and button presses of one bot."""

    def __init__(self, rt, bindings: BotBindings, replies: ReplySender, fetch: Callable[[FileRef], bytes]):
        self.rt = rt
        self.bindings = bindings
        self.replies = replies
        self.fetch = fetch
        self.albums = AlbumCollector(lambda chat_id, reply: self.replies.deliver([reply], chat_id, None),
                                     lambda locale, key, **params: rt.catalog.text(locale, "telegram", key, **params))

    def on_message(self, message: types.Message) -> None:
        self.run(message.chat, message.from_user, incoming_of(message), None)

    def on_callback(self, call: types.CallbackQuery) -> None:
        if call.message is None:  # a button under an inline-mode message: nothing of ours
            return self.replies.answer(call, None)
        self.run(call.message.chat, call.from_user, Incoming("button", data=call.data or ""), call)

    def run(self, chat: types.Chat, sender: types.User, incoming: Incoming, call) -> None:
        """Handle under the chat's lock; a failing step tells the user and keeps the state as it was."""
        primary = self.bindings.primary
        ctx = None
        self.albums.flush_chat(chat.id, keep_group=incoming.file.media_group_id if incoming.file else None)
        try:
            with chat_lock(self.rt.redis, primary, chat.id):
                state = state_store.load(primary, chat.id, self.rt.catalog)
                ctx = self.context(chat, sender)
                try:
                    conversation.handle(ctx, state, incoming)
                except Exception:  # a bug must not kill the bot
                    log.exception("telegram %s: update failed", primary)
                    ctx.replies = [Reply(ctx.t("something_wrong"))]
                else:
                    state_store.save(primary, chat.id, state)
            self.replies.deliver(ctx.replies, chat.id, call)
            if ctx.album is not None:
                self.albums.add(chat.id, ctx.locale, ctx.album)
        finally:
            if call is not None:
                self.replies.answer_callback(call, ctx.replies if ctx else [])

    def context(self, chat: types.Chat, sender: types.User) -> Ctx:
        """Who writes (the linked customer, if any) and in which language."""
        user = None
        for binding in dict.fromkeys((self.bindings.primary, *self.bindings.binding_ids)):
            user = accounts.linked_user(binding, chat.id, sender.id)
            if user is not None:
                break
        catalog = self.rt.catalog
        language = (sender.language_code or "")[:2]
        locale = user.locale if user else (language if language in catalog.ui else catalog.policies.default_locale)
        return Ctx(rt=self.rt, binding_id=self.bindings.primary, binding_ids=self.bindings.binding_ids, chat_id=chat.id,
                   chat_type=chat.type, tg_user_id=sender.id, tg_username=sender.username, locale=locale, user=user,
                   serves_tickets=self.bindings.serves_tickets, fetch=self.fetch,
                   tg_name=" ".join(filter(None, (sender.first_name, sender.last_name))))


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

"""The Bot API methods of the fake server and the checks real Telegram makes (limits, callback data, HTML).

A mixin of FakeBotAPI: it reads and writes the server's state (messages, files, callbacks) under its lock.
"""
from __future__ import annotations

import threading
import time
from html.parser import HTMLParser

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024  # the Bot API refuses getFile above 20 MB
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler", "span",
             "blockquote", "tg-emoji"}


class ApiError(Exception):
    """An error answer of the Bot API: {"ok": false, "error_code", "description", "parameters"}."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


class _TagChecker(HTMLParser):
    """Rejects HTML that Telegram's parse_mode=HTML would refuse (unknown tags, unbalanced ones)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in HTML_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: Unsupported start tag \"{tag}\"")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: Unmatched end tag \"{tag}\"")


def _check_html(text: str) -> None:
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise ApiError(400, f"Bad Request: can't parse entities: Unclosed start tag \"{checker.stack[-1]}\"")


class BotMethods:
    """`_m_<method>(bot, params, files)` answers `/bot<token>/<method>`; raise ApiError for an error answer."""

    _lock: threading.RLock

    def _bot_user(self, bot: Bot) -> dict:
        return {"id": bot.id, "is_bot": True, "first_name": bot.username, "username": bot.username}

    def _m_getMe(self, bot, params, files):
        return {**self._bot_user(bot), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _m_getUpdates(self, bot, params, files):
        if bot.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                                "to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with bot.cond:
            if offset:
                bot.updates = [u for u in bot.updates if u["update_id"] >= offset]  # confirmed ones are gone
                bot.confirmed = max(bot.confirmed, offset)
            while not bot.updates and not bot.interrupted and not self._stopping.is_set() and time.monotonic() < deadline:
                bot.cond.wait(min(0.5, deadline - time.monotonic()))
            bot.interrupted = False
            return list(bot.updates[:limit])

    def _m_deleteWebhook(self, bot, params, files):
        bot.webhook_url = ""
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            with bot.cond:
                bot.updates.clear()
        return True

    def _m_setWebhook(self, bot, params, files):
        bot.webhook_url = params.get("url", "")
        return True

    def _m_setMyCommands(self, bot, params, files):
        commands = params.get("commands") or []
        for c in commands:
            if not (1 <= len(c.get("command", "")) <= 32) or not (1 <= len(c.get("description", "")) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        bot.commands = commands
        return True

    def _m_getMyCommands(self, bot, params, files):
        return bot.commands

    def _check_chat(self, params: dict) -> int:
        if "chat_id" not in params:
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.missing_chats:
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    @staticmethod
    def _check_markup(params: dict) -> dict | None:
        markup = params.get("reply_markup")
        if not markup:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not (1 <= len(data.encode()) <= MAX_CALLBACK_DATA):
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _check_text(text: str, parse_mode: str | None, limit: int, what: str) -> None:
        if parse_mode and parse_mode.upper() == "HTML":
            _check_html(text)
        if len(text.encode("utf-16-le")) // 2 > limit:  # Telegram counts UTF-16 code units
            raise ApiError(400, f"Bad Request: {what} is too long")

    def _store_sent(self, bot: Bot, chat_id: int, content: dict, markup: dict | None) -> dict:
        message = {"message_id": self._next_message_id(chat_id), "from": self._bot_user(bot), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"}, **content}
        if markup:
            message["reply_markup"] = markup
        with self._lock:
            self.messages[(bot.token, chat_id, message["message_id"])] = message
            self.latest[(bot.token, chat_id)] = message
        return message

    def _m_sendMessage(self, bot, params, files):
        chat_id = self._check_chat(params)
        text = params.get("text", "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        self._check_text(text, params.get("parse_mode"), MAX_TEXT, "message")
        return self._store_sent(bot, chat_id, {"text": text}, self._check_markup(params))

    def _m_sendDocument(self, bot, params, files):
        chat_id = self._check_chat(params)
        caption = params.get("caption", "")
        self._check_text(caption, params.get("parse_mode"), MAX_CAPTION, "message caption")
        if "document" in files:
            filename, data = files["document"]
            stored = self.add_file(data, name=filename)
        elif params.get("document") in self.files:
            stored = self.files[params["document"]]
            filename = stored.file_path.rsplit("/", 1)[-1]
        else:
            raise ApiError(400, "Bad Request: there is no document in the request")
        content = {"document": {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                                "file_name": filename, "file_size": stored.size}}
        if caption:
            content["caption"] = caption
        return self._store_sent(bot, chat_id, content, self._check_markup(params))

    def _edited(self, bot: Bot, params: dict) -> dict:
        chat_id = self._check_chat(params)
        key = (bot.token, chat_id, int(params.get("message_id") or 0))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def _m_editMessageText(self, bot, params, files):
        with self._lock:
            message = self._edited(bot, params)
            text = params.get("text", "")
            if not text.strip():
                raise ApiError(400, "Bad Request: message text is empty")
            self._check_text(text, params.get("parse_mode"), MAX_TEXT, "message")
            markup = self._check_markup(params)
            if message.get("text") == text and message.get("reply_markup") == markup:
                raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                    "markup are exactly the same as a current content and reply markup of the message")
            message["text"] = text
            message.pop("reply_markup", None)
            if markup:
                message["reply_markup"] = markup
            message["edit_date"] = int(time.time())
            return message

    def _m_editMessageReplyMarkup(self, bot, params, files):
        with self._lock:
            message = self._edited(bot, params)
            markup = self._check_markup(params)
            if message.get("reply_markup") == markup:
                raise ApiError(400, "Bad Request: message is not modified")
            message.pop("reply_markup", None)
            if markup:
                message["reply_markup"] = markup
            return message

    def _m_answerCallbackQuery(self, bot, params, files):
        with self._lock:
            query = self.callbacks.get(str(params.get("callback_query_id")))
            if query is None or query["answered"] or query["token"] != bot.token:
                raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            if len(params.get("text", "")) > 200:
                raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            query["answered"] = True
            query["text"] = params.get("text", "")
        return True

    def _m_sendChatAction(self, bot, params, files):
        self._check_chat(params)
        return True

    def _m_getFile(self, bot, params, files):
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.size > MAX_DOWNLOAD:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.size,
                "file_path": stored.file_path}

"""The Bot API methods called for every update (getUpdates, sendMessage, editMessageText, answerCallbackQuery),
called directly: a JSON body on the shared pool, the answer's `result` as plain JSON (updates as telebot's types).

telebot's path for the same call costs about twice the client CPU (it formats a debug line of every request and
answer whatever the log level, percent-encodes the text byte by byte, and builds Message objects nobody reads).
Errors are telebot's (`ApiTelegramException`, `ApiHTTPException`) and requests' timeouts, as through telebot, so
`sender.classify` treats both paths alike.
"""
from __future__ import annotations

from telebot import apihelper, types

from channels.telegram import transport
from channels.telegram.keyboards import Rows, keyboard


def call(token: str, method: str, params: dict, timeout: float):
    """One Bot API call; returns the answer's `result`."""
    answer = transport.post_json(apihelper.API_URL.format(token, method), params, timeout)
    return apihelper._check_result(method, answer)["result"]


def get_updates(token: str, offset: int | None, poll_timeout: int, allowed_updates: list[str]) -> list[types.Update]:
    """A long poll: the updates after `offset` (waiting up to `poll_timeout` s for one)."""
    params: dict = {"timeout": poll_timeout, "allowed_updates": allowed_updates}
    if offset is not None:
        params["offset"] = offset
    return [types.Update.de_json(update) for update in call(token, "getUpdates", params, poll_timeout + 10)]


def send_message(token: str, chat_id: int, text: str, buttons: Rows | None, timeout: float) -> dict:
    """sendMessage (plain text, inline buttons under it); returns the Message sent."""
    params = {"chat_id": chat_id, "text": text}
    if buttons:
        params["reply_markup"] = keyboard(buttons)
    return call(token, "sendMessage", params, timeout)


def edit_message_text(token: str, chat_id: int, message_id: int, text: str, buttons: Rows | None,
                      timeout: float) -> dict | bool:
    """editMessageText; the buttons replace the message's (none: the message keeps no keyboard)."""
    params = {"chat_id": chat_id, "message_id": message_id, "text": text}
    if buttons:
        params["reply_markup"] = keyboard(buttons)
    return call(token, "editMessageText", params, timeout)


def answer_callback_query(token: str, callback_query_id: str, text: str | None, show_alert: bool,
                          timeout: float) -> bool:
    """answerCallbackQuery: stops the button's spinner; `text` as a toast, or an alert with `show_alert`."""
    params: dict = {"callback_query_id": callback_query_id}
    if text:
        params["text"] = text
    if show_alert:
        params["show_alert"] = True
    return call(token, "answerCallbackQuery", params, timeout)

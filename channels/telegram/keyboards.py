"""Inline keyboard builders: rows of (caption, callback data) become telebot markups."""
from __future__ import annotations

from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from channels.telegram.callbacks import AskArchive, ReplyTo, encode

Rows = list[list[tuple[str, str]]]
MAX_CALLBACK_BYTES = 64  # Telegram's limit; Cyrillic takes 2 bytes a letter, so data are short ASCII keys


def markup(rows: Rows | None) -> InlineKeyboardMarkup | None:
    """An inline keyboard, or None for no keyboard; refuses callback data Telegram would reject."""
    if not rows:
        return None
    keyboard = InlineKeyboardMarkup()
    for row in rows:
        for _, data in row:
            if not 1 <= len(data.encode()) <= MAX_CALLBACK_BYTES:
                raise ValueError(f"callback data {data!r} is not 1..64 bytes")
        keyboard.row(*(InlineKeyboardButton(text=caption, callback_data=data) for caption, data in row))
    return keyboard


def ticket_rows(catalog, locale: str, number: int) -> Rows:
    """'Добавить ответ' and 'Добавить в архив' for one ticket (under replies and in /tickets)."""
    return [[(catalog.text(locale, "telegram", "add_reply"), encode(ReplyTo(number)))],
            [(catalog.text(locale, "telegram", "add_to_archive"), encode(AskArchive(number)))]]

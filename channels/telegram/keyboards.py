"""Inline keyboard builders: rows of (caption, callback data) become the Bot API's InlineKeyboardMarkup."""
from __future__ import annotations

from channels.telegram.callbacks import AskArchive, ReplyTo, encode

Rows = list[list[tuple[str, str]]]
MAX_CALLBACK_BYTES = 64  # Telegram's limit; Cyrillic takes 2 bytes a letter, so data are short ASCII keys


def keyboard(rows: Rows | None) -> dict | None:
    """An inline keyboard as JSON, or None for no keyboard; refuses callback data Telegram would reject."""
    if not rows:
        return None
    for row in rows:
        for _, data in row:
            if not 1 <= len(data.encode()) <= MAX_CALLBACK_BYTES:
                raise ValueError(f"callback data {data!r} is not 1..64 bytes")
    return {"inline_keyboard": [[{"text": caption, "callback_data": data} for caption, data in row]
                                for row in rows if row]}


def ticket_rows(catalog, locale: str, number: int) -> Rows:
    """'Добавить ответ' and 'Добавить в архив' for one ticket (under replies and in /tickets)."""
    return [[(catalog.text(locale, "telegram", "add_reply"), encode(ReplyTo(number)))],
            [(catalog.text(locale, "telegram", "add_to_archive"), encode(AskArchive(number)))]]

"""Files the user sent, fetched from the Bot API when a step needs their content."""
from __future__ import annotations

from telebot import TeleBot
from telebot.apihelper import ApiTelegramException

from channels.telegram.events import FileRef

TELEGRAM_DOWNLOAD_LIMIT_MB = 20  # getFile refuses bigger files


class FileTooBig(Exception):
    """The Bot API refused to hand the file to the bot (over its download limit)."""


class Downloader:
    """getFile then the download, for one bot."""

    def __init__(self, bot: TeleBot):
        self.bot = bot

    def fetch(self, ref: FileRef) -> bytes:
        try:
            info = self.bot.get_file(ref.file_id)
            return self.bot.download_file(info.file_path)
        except ApiTelegramException as exc:
            if "too big" in str(exc.description):
                raise FileTooBig(ref.name) from None
            raise

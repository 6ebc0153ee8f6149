"""What a user did, independent of telebot: the conversation modules read these and return Replies."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from engine.catalog import Catalog
from engine.catalog.texts import in_locale
from engine.store.models import User


@dataclass(frozen=True)
class FileRef:
    """A file the user sent; downloaded only when needed (its file_id stays valid across restarts)."""

    file_id: str
    name: str
    mime: str | None
    size: int | None
    media_group_id: str | None = None


@dataclass(frozen=True)
class Incoming:
    kind: str  # command | text | file | button | other
    text: str = ""  # message text or caption
    command: str = ""  # lower-case, without "/" and "@bot"
    payload: str = ""  # what follows the command
    data: str = ""  # callback data of a pressed button
    file: FileRef | None = None


@dataclass(frozen=True)
class AlbumPart:
    """What became of one file of an album (a media group): summed up with its siblings in one reply."""

    group_id: str
    refusal: str | None  # why the file was not added, as the user reads it; None when added
    count: int  # files collected so far, after this one
    max_files: int
    buttons: list | None = None


@dataclass
class Reply:
    """A message to send; edit=True replaces the message whose button was pressed."""

    text: str
    buttons: list | None = None
    edit: bool = False
    alert: str | None = None  # callback answer shown as a dialog (a refused or stale button)
    toast: str | None = None  # callback answer shown briefly at the top of the chat (seed: "в верхней части чата")


@dataclass
class Ctx:
    """Everything a conversation step needs about the bot, the chat and the person."""

    rt: object
    binding_id: str  # the binding that owns conversations (the ticket-serving one of this token)
    binding_ids: tuple[str, ...]  # every binding served by this token
    chat_id: int
    chat_type: str
    tg_user_id: int
    tg_username: str | None
    locale: str
    user: User | None
    serves_tickets: bool  # the support role: tickets; otherwise notifications only
    fetch: Callable[[FileRef], bytes]  # downloads a file from the Bot API
    tg_name: str = ""  # the sender's first and last name (a Telegram-first account's name)
    replies: list[Reply] = field(default_factory=list)
    album: AlbumPart | None = None  # set instead of a reply when the file came in an album

    @property
    def catalog(self) -> Catalog:
        return self.rt.catalog

    def t(self, key: str, **params) -> str:
        return self.catalog.text(self.locale, "telegram", key, **params)

    def local(self, text):
        """A catalog text (title, label, help, option) in the person's language; a plain string as it is."""
        return in_locale(text, self.locale)

    def say(self, text: str, buttons: list | None = None, edit: bool = False) -> None:
        self.replies.append(Reply(text, buttons, edit))

    def file_reply(self, ref: FileRef, refusal: str | None, count: int, max_files: int, buttons: list) -> None:
        """What became of a file: said at once, or for a file of an album kept for the album's one summary."""
        if ref.media_group_id:
            self.album = AlbumPart(ref.media_group_id, refusal, count, max_files, buttons)
        else:
            self.say(refusal or self.t("file_added", name=ref.name, count=count, max_files=max_files), buttons)

    def alert(self, text: str) -> None:
        self.replies.append(Reply("", alert=text))

    def toast(self, text: str) -> None:
        self.replies.append(Reply("", toast=text))

"""Every inline button's callback data: typed buttons, encoded to short ASCII and decoded with validation.

The wire format is `kind[:arg[:arg]]` (e.g. `t:1a2b3c4d5e`, `o:7:2`); it stays stable because buttons
already sent to chats (notifications with «Добавить ответ») are pressed long after. Anything that does
not decode (forged, truncated, unknown, too long) is None: the conversation answers it as a stale button.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Union

MAX_BYTES = 64  # Telegram's limit for callback_data
MAX_NUMBER = 2**63 - 1  # ticket numbers and steps fit a signed 64-bit column
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # catalog identifiers (engine.catalog.schema.IDENTIFIER_PATTERN)
TOPIC_CODE_RE = re.compile(r"^[0-9a-f]{10}$")  # topic_code()
NUMBER_RE = re.compile(r"^[0-9]{1,19}$")
LOCALE_RE = re.compile(r"^[a-z]{2}$")
CHOICE_RE = re.compile(r"^(?:y|n|[0-9]{1,4})$")  # boolean yes/no or a select option's index


@dataclass(frozen=True)
class Cancel:
    """«Отмена»: drop whatever the chat was doing."""


@dataclass(frozen=True)
class CategoryPage:
    page: int


@dataclass(frozen=True)
class ChooseCategory:
    category_id: str


@dataclass(frozen=True)
class ChooseTopic:
    code: str  # topic_code of the topic key, resolved against the running catalog


@dataclass(frozen=True)
class Help:
    """«Где найти?» of the question asked as step `seq`."""

    seq: int


@dataclass(frozen=True)
class Skip:
    seq: int


@dataclass(frozen=True)
class Finish:
    """«Завершить» of a collecting step (ticket message or reply)."""

    seq: int


@dataclass(frozen=True)
class Choose:
    """An answer button: `choice` is "y"/"n" for a boolean, an option's index for a select."""

    seq: int
    choice: str


@dataclass(frozen=True)
class ViewTicket:
    number: int


@dataclass(frozen=True)
class ReplyTo:
    number: int


@dataclass(frozen=True)
class AskArchive:
    number: int


@dataclass(frozen=True)
class ConfirmArchive:
    number: int


@dataclass(frozen=True)
class KeepTicket:
    """«Нет» to archiving: show the ticket again."""

    number: int


@dataclass(frozen=True)
class Language:
    """/language's choice: a locale of the UI texts."""

    locale: str


@dataclass(frozen=True)
class ClaimCode:
    """«Код для сайта»: a Telegram-first customer asks for the one-time code that adds an email on the web."""


def topic_code(topic_key: str) -> str:
    """A short ASCII stand-in for a topic key (resolved back against the running catalog)."""
    return hashlib.blake2s(topic_key.encode(), digest_size=5).hexdigest()


Button = Union[Cancel, CategoryPage, ChooseCategory, ChooseTopic, Help, Skip, Finish, Choose, ViewTicket, ReplyTo,
               AskArchive, ConfirmArchive, KeepTicket, Language, ClaimCode]

# kind on the wire -> (button class, one pattern per argument)
KINDS: dict[str, tuple[type, tuple[re.Pattern, ...]]] = {
    "x": (Cancel, ()),
    "cp": (CategoryPage, (NUMBER_RE,)),
    "c": (ChooseCategory, (ID_RE,)),
    "t": (ChooseTopic, (TOPIC_CODE_RE,)),
    "h": (Help, (NUMBER_RE,)),
    "s": (Skip, (NUMBER_RE,)),
    "f": (Finish, (NUMBER_RE,)),
    "o": (Choose, (NUMBER_RE, CHOICE_RE)),
    "v": (ViewTicket, (NUMBER_RE,)),
    "r": (ReplyTo, (NUMBER_RE,)),
    "a": (AskArchive, (NUMBER_RE,)),
    "ay": (ConfirmArchive, (NUMBER_RE,)),
    "an": (KeepTicket, (NUMBER_RE,)),
    "l": (Language, (LOCALE_RE,)),
    "cc": (ClaimCode, ()),
}
KIND_OF = {cls: kind for kind, (cls, _) in KINDS.items()}


def encode(button: Button) -> str:
    """The callback data of `button`; ValueError when an argument is malformed (a bug, never user input)."""
    kind = KIND_OF[type(button)]
    args = [str(getattr(button, f)) for f in button.__dataclass_fields__]
    data = ":".join([kind, *args])
    if decode(data) != button:
        raise ValueError(f"button {button!r} cannot be encoded")
    return data


def decode(data: object) -> Button | None:
    """The button `data` encodes, or None for anything malformed, unknown or longer than Telegram allows."""
    if not isinstance(data, str) or not data.isascii() or not 1 <= len(data) <= MAX_BYTES:
        return None
    kind, *args = data.split(":")
    spec = KINDS.get(kind)
    if spec is None:
        return None
    cls, patterns = spec
    if len(args) != len(patterns) or not all(p.fullmatch(a) for p, a in zip(patterns, args)):
        return None
    values = []
    for (name, f), arg in zip(cls.__dataclass_fields__.items(), args):
        value = int(arg) if f.type == "int" else arg
        if f.type == "int" and value > MAX_NUMBER:
            return None
        values.append(value)
    return cls(*values)

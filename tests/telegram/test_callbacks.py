"""The callback-data codec: every button round-trips in Telegram's 64 bytes; anything else decodes to None."""
from __future__ import annotations

import pytest

from channels.telegram import callbacks as cb

BUTTONS = [
    cb.Cancel(), cb.CategoryPage(0), cb.CategoryPage(12), cb.ChooseCategory("chats"), cb.ChooseCategory("a" * 40),
    cb.ChooseTopic(cb.topic_code("chats/chat-problem")), cb.Help(1), cb.Skip(7), cb.Finish(3), cb.Choose(4, "y"),
    cb.Choose(4, "n"), cb.Choose(999, "29"), cb.ViewTicket(1001), cb.ReplyTo(2**63 - 1), cb.AskArchive(1),
    cb.ConfirmArchive(1002), cb.KeepTicket(1002), cb.Language("en"), cb.ClaimCode(),
]


@pytest.mark.parametrize("button", BUTTONS, ids=repr)
def test_round_trip(button):
    data = cb.encode(button)
    assert data.isascii() and len(data.encode()) <= cb.MAX_BYTES
    assert cb.decode(data) == button


def test_every_button_kind_is_covered():
    assert {type(b) for b in BUTTONS} == set(cb.KIND_OF)


def test_the_wire_format_is_stable():
    """Buttons already sent to chats (notifications) keep working after an upgrade."""
    assert [cb.encode(b) for b in (cb.ReplyTo(1001), cb.AskArchive(1001), cb.Choose(2, "0"), cb.Cancel())] == [
        "r:1001", "a:1001", "o:2:0", "x"]


@pytest.mark.parametrize("data", [
    None, 42, b"v:1", "", "zzz", "x:1", "v", "v:", "v:abc", "v:-1", "v:1.5", "v: 1", "v:1\n", "v:١٢٣",
    "v:" + "9" * 20, "a:" + "9" * 60, "c:../../etc", "c:Chats", "c:" + "a" * 41, "t:ffff", "t:FFFFFFFFFF",
    "o:1", "o:1:yes", "o:1:-1", "o:1:y:2", "f:1:2", "cp:-1", "r:1" + "\x00", "c:чаты", "x:" + "x" * 100, "l:EN", "l:eng",
])
def test_hostile_data_decodes_to_none(data):
    assert cb.decode(data) is None


def test_encoding_a_malformed_button_is_a_bug():
    for button in (cb.ChooseCategory("../etc"), cb.ViewTicket(-1), cb.Choose(1, "maybe"), cb.ChooseCategory("a" * 60)):
        with pytest.raises(ValueError):
            cb.encode(button)

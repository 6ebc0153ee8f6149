"""An album (files sharing a media_group_id) gets one summary reply instead of one per file."""
from __future__ import annotations

import pytest

from channels.telegram.albums import AlbumCollector
from channels.telegram.events import AlbumPart
from engine.store.models import Attachment
from tests.telegram.chat import JPEG, PDF, Chat
from tests.telegram.conftest import SUPPORT_TOKEN, text

CHAT = 8008
MB = 1024 * 1024


@pytest.fixture
def chat(rt, fake_api, bots):
    chat = Chat.linked(rt, fake_api, SUPPORT_TOKEN, CHAT, "album@example.com")
    chat.send("/createticket").press("Чаты и рассылки").press("Иное")
    chat.send("12345").send("Вопрос")
    return chat


def test_an_album_of_six_files_gets_one_summary(rt, fake_api, chat):
    sent = len(chat.messages)
    sizes = [None, 25 * MB, None, 15 * MB, None, None]  # 25 MB: over Telegram's download limit; 15 MB: over ours
    for i, size in enumerate(sizes):
        fake_api.user_document(SUPPORT_TOKEN, CHAT, None if size else PDF + bytes([i]), f"scan{i}.pdf", size=size,
                               media_group_id="ALBUM1", caption="Сканы" if i == 0 else None, user=chat.user)
    fake_api.wait_idle(SUPPORT_TOKEN)
    fake_api.wait_sent(CHAT, sent + 1)
    lines = chat.last.split("\n")
    assert lines[0] == text(rt, "album_summary", added=4, refused=2, count=4, max_files=5)
    assert lines[1] == text(rt, "file_too_big_telegram", name="scan1.pdf", max_mb=20)
    assert lines[2].startswith(text(rt, "file_refused", name="scan3.pdf", reason=""))
    assert len(chat.messages) == sent + 1 and "Завершить" in chat.buttons()
    chat.press("Завершить")
    assert Attachment.select().count() == 4


def test_the_next_update_of_the_chat_comes_after_the_album_s_summary(rt, fake_api, chat):
    """A press right behind the album: the summary is sent first, then the press is answered."""
    sent = len(chat.messages)
    fake_api.user_album(SUPPORT_TOKEN, CHAT, [JPEG, JPEG + b"1"], user=chat.user)
    fake_api.wait_idle(SUPPORT_TOKEN)
    chat.send("Описание")
    assert chat.texts(sent) == [text(rt, "album_summary", added=2, refused=0, count=2, max_files=5), text(rt, "text_added")]


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def collector(clock):
    sent = []
    albums = AlbumCollector(lambda chat_id, reply: sent.append((chat_id, reply.text)),
                            lambda locale, key, **p: f"{key} {p['added']}/{p['refused']}", clock=clock,
                            quiet=0.5, deadline=2.0, autoflush=False)
    return albums, sent


def part(group: str, refusal: str | None = None, count: int = 1) -> AlbumPart:
    return AlbumPart(group, refusal, count, 5)


def test_an_album_is_summed_up_after_a_quiet_moment_and_at_its_deadline():
    clock = FakeClock()
    albums, sent = collector(clock)
    albums.add(1, "ru", part("G"))
    clock.now += 0.4
    albums.add(1, "ru", part("G", "Файл «b» не добавлен"))
    clock.now += 0.4  # 0.8 s after the first part, 0.4 s after the last: still gathering
    assert albums.flush_due() == 0 and albums.next_due() == pytest.approx(0.1)
    clock.now += 0.1
    assert albums.flush_due() == 1
    assert sent == [(1, "album_summary 1/1\nФайл «b» не добавлен")] and albums.next_due() is None

    for _ in range(5):  # parts keep coming: the deadline ends the wait
        albums.add(2, "ru", part("H"))
        clock.now += 0.45
    assert albums.flush_due() == 1 and sent[-1] == (2, "album_summary 5/0")


def test_another_update_of_the_chat_sums_up_its_album_first():
    clock = FakeClock()
    albums, sent = collector(clock)
    albums.add(1, "ru", part("G"))
    albums.add(3, "ru", part("K"))
    assert albums.flush_chat(1, keep_group="G") == 0  # a further part of the same album
    assert albums.flush_chat(1) == 1 and sent == [(1, "album_summary 1/0")]
    assert albums.flush_all() == 1

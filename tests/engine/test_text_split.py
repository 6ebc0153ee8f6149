"""engine.text_split: parts within the limit as Telegram counts (UTF-16), split at the best boundary, nothing lost."""
from __future__ import annotations

import random
import re

import pytest

from engine.text_split import split_text, utf16_len

ALPHABETS = {
    "latin": "abcdefghij",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "emoji": "😀🚀🎉👍🏻🇷🇺",  # astral: 2 UTF-16 units each (the flag and skin tone are two of them)
    "mixed": "aб😀ж€𝔸",
}


def words_of(text: str) -> list[str]:
    return text.split()


def random_text(rng: random.Random, alphabet: str, size: int) -> str:
    """Words of 1-12 letters (sometimes one of 5,000), separated by spaces, newlines and blank lines."""
    out, total = [], 0
    while total < size:
        length = 5000 if rng.random() < 0.002 else rng.randint(1, 12)
        total += length + 1
        out.append("".join(rng.choice(alphabet) for _ in range(length)))
        out.append(rng.choice([" "] * 12 + ["\n"] * 2 + ["\n\n"]))
    return "".join(out)


@pytest.mark.parametrize("alphabet", sorted(ALPHABETS))
@pytest.mark.parametrize("limit", [4096, 1024, 37])
def test_parts_fit_and_keep_every_word_in_order(alphabet, limit):
    """Property over 15 random texts each: every part fits; joined, the parts are the text's words in order (a word is
    cut only when it alone is longer than the limit)."""
    rng = random.Random(f"{alphabet}-{limit}")
    for _ in range(15):
        text = random_text(rng, ALPHABETS[alphabet], rng.randint(1, 4 * limit))
        parts = split_text(text, limit)
        assert all(0 < utf16_len(p) <= limit for p in parts)
        assert all(p == p.strip() for p in parts)
        assert "".join(words_of(text)) == "".join("".join(words_of(p)) for p in parts)
        long_words = [w for w in words_of(text) if utf16_len(w) > limit]
        if not long_words:  # no word is cut: the parts' words are exactly the text's words
            assert [w for p in parts for w in words_of(p)] == words_of(text)


def test_a_short_text_is_one_part_unchanged():
    assert split_text("Привет 👋", 4096) == ["Привет 👋"]


def test_astral_characters_count_two():
    """4,096 characters of which one is an emoji are 4,097 units: too long for one message."""
    text = "😀" + "a" * 4095
    assert len(text) == 4096 and utf16_len(text) == 4097
    parts = split_text(text, 4096)
    assert [utf16_len(p) for p in parts] == [4096, 1] or len(parts) == 2
    assert "".join(parts) == text
    assert all(utf16_len(p) <= 4096 for p in parts)


def test_a_hard_cut_never_splits_a_surrogate_pair_or_a_joined_emoji():
    text = "😀" * 3000  # one 6,000-unit word
    parts = split_text(text, 4096)
    assert "".join(parts) == text and utf16_len(parts[0]) == 4096
    family = "👨\u200d👩\u200d👧" * 500  # joined sequences: the cut falls before a joiner's neighbour
    parts = split_text(family, 100)
    assert "".join(parts) == family
    assert not any(p.startswith("\u200d") or p.endswith("\u200d") for p in parts)


def test_paragraphs_then_lines_then_words():
    """A paragraph break is preferred when it leaves at least half a part; else a line break; else a space."""
    para = "x" * 60
    assert split_text(f"{para}\n\n{para}", 100) == [para, para]
    lines = "\n".join(["y" * 30] * 5)  # 154 characters, no paragraph
    parts = split_text(lines, 100)
    assert parts == ["\n".join(["y" * 30] * 3), "\n".join(["y" * 30] * 2)]
    words = " ".join(["z" * 9] * 20)  # one line of 199 characters
    parts = split_text(words, 100)
    assert all(len(p) <= 100 and not p.startswith(" ") for p in parts) and " ".join(parts) == words
    assert split_text("a\n\n" + "b " * 60, 100)[0] != "a"  # a paragraph break too early is not taken


def test_a_10892_character_reply_is_complete():
    """The issue's reply: 10,892 characters of Russian prose in paragraphs arrive as 3 parts, all of it."""
    rng = random.Random(10892)
    sentence = "Проверьте настройки маршрутизатора и перезапустите службу. "
    text = ""
    while len(text) < 10892:
        text += sentence * rng.randint(1, 8) + "\n\n"
    text = text[:10892]
    parts = split_text(text, 4096)
    assert len(parts) == 3
    assert re.sub(r"\s+", " ", " ".join(parts)) == re.sub(r"\s+", " ", text).strip()

"""Split a long plain text into messages of a channel's size, at paragraph, then line, then word boundaries.

Lengths are counted in UTF-16 code units, as Telegram counts them (an emoji outside the Basic Multilingual Plane
is 2); nothing is cut off: only the whitespace at a split point is dropped, and parts keep their order.
"""
from __future__ import annotations

import re
import unicodedata

# Split points, best first: a blank line (paragraph), a line break, any other whitespace (word).
_BOUNDARIES = (re.compile(r"\n[ \t]*\n\s*"), re.compile(r"\n\s*"), re.compile(r"\s+"))
_JOINERS = "\u200d\ufe0e\ufe0f"


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """The largest number of characters of `text` whose UTF-16 length is at most `limit`."""
    if utf16_len(text) <= limit:
        return len(text)
    end = min(len(text), limit)  # each character is at least one unit
    while utf16_len(text[:end]) > limit:
        end -= (utf16_len(text[:end]) - limit + 1) // 2 or 1
    return end


def _grapheme_safe(text: str, end: int) -> int:
    """Move a hard cut back so a combining mark, variation selector or emoji joiner stays with its character."""
    while end > 1 and (unicodedata.combining(text[end]) or text[end] in _JOINERS or text[end - 1] == "\u200d"):
        end -= 1
    return end


def _cut(window: str) -> tuple[int, int] | None:
    """(end of this part, start of the next) at the best boundary in `window` leaving at least half of it."""
    for boundary in _BOUNDARIES:
        found = [m for m in boundary.finditer(window) if m.start() > 0]
        if found and found[-1].start() >= len(window) // 2:
            return found[-1].start(), found[-1].end()
    for boundary in _BOUNDARIES:  # no good boundary in the second half: take the last one at all
        found = [m for m in boundary.finditer(window) if m.start() > 0]
        if found:
            return found[-1].start(), found[-1].end()
    return None


def split_text(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` UTF-16 units; a single word longer than `limit` is the only thing cut mid-word."""
    if limit < 2:
        raise ValueError("limit must be at least 2 (one astral character)")
    rest = text.strip()
    parts: list[str] = []
    while utf16_len(rest) > limit:
        end = _fitting_prefix(rest, limit)
        # A boundary right after the window (the next character is whitespace) fits this part whole.
        window = rest[: end + 1] if end < len(rest) and rest[end].isspace() else rest[:end]
        cut = _cut(window)
        if cut is None:
            end = _grapheme_safe(rest, end)
            parts.append(rest[:end])
            rest = rest[end:].lstrip()
        else:
            parts.append(rest[: cut[0]].rstrip())
            rest = rest[cut[1]:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts

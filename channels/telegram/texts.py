"""Telegram's length limits: split long texts on line or word boundaries."""
from __future__ import annotations

MAX_TEXT = 4096


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Chunks of at most `limit` characters, cut at the last newline or space when there is one."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= limit // 2:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= limit // 2:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip() or not chunks:
        chunks.append(rest)
    return [c for c in chunks if c.strip()] or [text[:limit]]

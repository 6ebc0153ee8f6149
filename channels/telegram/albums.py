"""Albums: the files of one media group get one summary reply ("4 files added, 2 refused: ...") instead of one each.

Telegram sends an album as one message per file, sharing a media_group_id, within a moment of each other (possibly
in two getUpdates batches). Each file is checked and kept as it comes; what became of it is collected here, and the
summary goes out once the album has been quiet for QUIET seconds (at most DEADLINE seconds after its first file),
before any later update of the same chat is handled, or when the bot stops.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from engine.stop_signals import kept_from_new_threads

from channels.telegram.events import AlbumPart, Reply

QUIET = 0.6  # seconds without a new file after which an album is complete
DEADLINE = 3.0  # seconds after its first file an album is summed up at the latest


@dataclass
class Album:
    chat_id: int
    locale: str
    first_at: float
    last_at: float
    parts: list[AlbumPart] = field(default_factory=list)


class AlbumCollector:
    """Collects album parts per chat; `send(chat_id, reply)` delivers a summary; `text(locale, key, **params)` is a
    telegram UI text. With `autoflush` a daemon thread sends summaries when due; without, call `flush_due()`."""

    def __init__(self, send: Callable[[int, Reply], None], text: Callable[..., str], clock: Callable[[], float] = time.monotonic,
                 quiet: float = QUIET, deadline: float = DEADLINE, autoflush: bool = True):
        self.send, self.text, self.clock = send, text, clock
        self.quiet, self.deadline, self.autoflush = quiet, deadline, autoflush
        self._albums: dict[tuple[int, str], Album] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, chat_id: int, locale: str, part: AlbumPart) -> None:
        now = self.clock()
        with self._cond:
            album = self._albums.setdefault((chat_id, part.group_id), Album(chat_id, locale, now, now))
            album.parts.append(part)
            album.last_at = now
            self._cond.notify_all()
            if self.autoflush and self._thread is None:
                self._thread = threading.Thread(target=self._flush_when_due, name="telegram-albums", daemon=True)
                with kept_from_new_threads():
                    self._thread.start()

    def _due_at(self, album: Album) -> float:
        return min(album.last_at + self.quiet, album.first_at + self.deadline)

    def next_due(self) -> float | None:
        """Seconds until the next summary is due (0 when one is), None when no album is being collected."""
        with self._cond:
            return self._next_due_locked()

    def flush_due(self) -> int:
        """Send the summaries whose time has come; returns how many."""
        now = self.clock()
        return self._flush(lambda key, album: self._due_at(album) <= now)

    def flush_chat(self, chat_id: int, keep_group: str | None = None) -> int:
        """Sum up the chat's albums now (an update of that chat comes next), except the one `keep_group` extends."""
        return self._flush(lambda key, album: key[0] == chat_id and key[1] != keep_group)

    def flush_all(self) -> int:
        return self._flush(lambda key, album: True)

    def _flush(self, due: Callable[[tuple[int, str], Album], bool]) -> int:
        with self._cond:
            ready = [self._albums.pop(key) for key, album in list(self._albums.items()) if due(key, album)]
        for album in ready:
            self.send(album.chat_id, self.summary(album))
        return len(ready)

    def summary(self, album: Album) -> Reply:
        """One reply for the album: how many files were added and refused, why, and the last file's buttons."""
        refusals = [p.refusal for p in album.parts if p.refusal]
        last = album.parts[-1]
        head = self.text(album.locale, "album_summary", added=len(album.parts) - len(refusals), refused=len(refusals),
                         count=last.count, max_files=last.max_files)
        return Reply("\n".join([head, *refusals]), last.buttons)

    def _flush_when_due(self) -> None:
        while True:
            with self._cond:
                wait = None
                while wait is None or wait > 0:
                    wait = self._next_due_locked()
                    if wait is None or wait > 0:
                        self._cond.wait(wait)
            self.flush_due()

    def _next_due_locked(self) -> float | None:
        if not self._albums:
            return None
        return max(0.0, min(self._due_at(a) for a in self._albums.values()) - self.clock())

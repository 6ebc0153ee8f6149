"""Search feedback for business staff: what customers typed into the topic search ("Не знаете, что выбрать?") that
found nothing, or after which they chose a topic the search had not offered.

Rows are anonymised (no user, no session: the phrase normalised, digits and addresses masked, at most
MAX_PHRASE characters) and counted per (phrase, chosen topic). A flood cannot fill the table: each session (a web
session, a Telegram chat) records at most PER_SESSION phrases a WINDOW (a Redis counter; nothing is recorded while
Redis is down), and new phrases stop being added at MAX_ROWS open rows. The admin page lists them by count with the
words to add to the chosen topic's keywords; a dismissed row comes back when the phrase is typed again.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from engine import rate_windows, search
from engine.catalog import Catalog
from engine.catalog.catalog import Topic
from engine.store.models import SearchFeedback

MAX_PHRASE = 120
MAX_ROWS = 5_000  # open (not dismissed) rows; beyond it only phrases already listed are counted
PER_SESSION = 5  # phrases one session may record ...
WINDOW = 3_600  # ... per this many seconds
KEY_PREFIX = "helpdesk:search-feedback:"
NOTHING_CHOSEN = ""  # topic_key of "the search found nothing"

_EMAIL = re.compile(r"\S+@\S+")
_DIGITS = re.compile(r"\d+")
_NOT_WORD = re.compile(r"[^\w#@]+")


@dataclass(frozen=True)
class FeedbackRow:
    """One line of the admin page: the phrase, the topic chosen after it (None: nothing found, or gone from the
    catalog), how often, and the words of the phrase the topic's texts lack (keywords to add)."""

    id: int
    phrase: str
    topic_key: str
    topic: Topic | None
    count: int
    last_seen: datetime
    keywords: tuple[str, ...]


def normalise(phrase: object) -> str:
    """The phrase as stored: lower case, ё as е, addresses as @ and numbers as #, punctuation as spaces, at most
    MAX_PHRASE characters cut at a word; "" for nothing worth keeping."""
    if not isinstance(phrase, str):
        return ""
    text = _DIGITS.sub("#", _EMAIL.sub("@", phrase.lower().replace("ё", "е")))
    text = " ".join(_NOT_WORD.sub(" ", text).split())
    if len(text) > MAX_PHRASE:
        text = text[:MAX_PHRASE + 1].rsplit(" ", 1)[0][:MAX_PHRASE]
    return text if search.content_words(text) else ""


def record(rt, session_key: str, phrase: str, topic_key: str = NOTHING_CHOSEN, now: datetime | None = None) -> bool:
    """Count `phrase` (found nothing: no topic_key; or followed by choosing `topic_key`, which search had not
    offered). False when nothing was recorded: an empty phrase, the session's limit, Redis down, the table full."""
    text = normalise(phrase)
    if not text or not _allowed(rt.redis, session_key):
        return False
    now = now or datetime.now(timezone.utc)
    with rt.db.atomic():
        updated = (SearchFeedback.update(count=SearchFeedback.count + 1, last_seen=now)
                   .where((SearchFeedback.phrase == text) & (SearchFeedback.topic_key == topic_key)).execute())
        if updated:
            return True
        if _open_rows().limit(MAX_ROWS).count() >= MAX_ROWS:
            return False
        SearchFeedback.insert(phrase=text, topic_key=topic_key, first_seen=now, last_seen=now).on_conflict(
            conflict_target=[SearchFeedback.phrase, SearchFeedback.topic_key],
            update={SearchFeedback.count: SearchFeedback.count + 1, SearchFeedback.last_seen: now}).execute()
    return True


def _allowed(redis, session_key: str) -> bool:
    """One more phrase for this session in the current window (the session key is stored only as a hash)."""
    key = KEY_PREFIX + hashlib.sha256(session_key.encode()).hexdigest()[:32]
    return not rate_windows.window_exceeded(redis, WINDOW, [(key, PER_SESSION)], unavailable=True)


def _open_rows():
    """Rows not dismissed, or typed again since."""
    return SearchFeedback.select().where(
        SearchFeedback.dismissed_at.is_null() | (SearchFeedback.last_seen > SearchFeedback.dismissed_at))


def open_feedback(catalog: Catalog, limit: int = 200) -> list[FeedbackRow]:
    """The open rows, most frequent first, with the keywords to add to the topic chosen."""
    rows = _open_rows().order_by(SearchFeedback.count.desc(), SearchFeedback.last_seen.desc()).limit(limit)
    found = []
    for row in rows:
        topic = catalog.topic(row.topic_key) if row.topic_key else None
        category = catalog.category(topic.category_id) if topic else None
        words = search.missing_words(row.phrase, topic, category) if topic else search.content_words(row.phrase)
        found.append(FeedbackRow(row.id, row.phrase, row.topic_key, topic, row.count, row.last_seen,
                                 tuple(w for w in words if "#" not in w and "@" not in w)))
    return found


def dismiss(row_id: int, now: datetime | None = None) -> bool:
    """Hide a row from the page (until the phrase is typed again); False for an unknown id."""
    now = now or datetime.now(timezone.utc)
    return bool(SearchFeedback.update(dismissed_at=now).where(SearchFeedback.id == row_id).execute())

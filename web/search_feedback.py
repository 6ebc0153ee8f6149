"""The portal's side of search feedback (engine.search_feedback): what the last search offered is kept in the
session; an explicit search (the form submitted, not the live search while typing) that found nothing is counted
at once, and opening a topic the last search did not offer counts the phrase with that topic."""
from __future__ import annotations

from flask import session

from engine import search_feedback
from web.context import runtime

LAST_SEARCH = "search"  # session key: {"q": phrase, "offered": [topic keys], "at": unix seconds}
FRESH = 900  # seconds after a search in which opening a topic counts as its outcome
RESTAMP_AFTER = 60  # seconds after which the same search again renews its time (FRESH counts from it)


def searched(phrase: str, found, explicit: bool) -> None:
    """Remember what a search offered; an explicit search that found nothing is recorded now."""
    rt = runtime()
    now, offered = int(rt.clock().timestamp()), [s.topic.key for s in found]
    last = session.get(LAST_SEARCH)
    # The same search again within a minute (htmx repeating a request) keeps the cookie as it is: no re-signing.
    if not (isinstance(last, dict) and last.get("q") == phrase and last.get("offered") == offered
            and 0 <= now - last.get("at", 0) < RESTAMP_AFTER):
        session[LAST_SEARCH] = {"q": phrase, "offered": offered, "at": now}
    if explicit and not found:
        search_feedback.record(rt, _session_key(), phrase, now=rt.clock())


def chose(topic_key: str) -> None:
    """A topic page was opened: if a fresh search did not offer that topic, record the phrase with it."""
    if LAST_SEARCH not in session:  # most visits: the session (and its cookie) stays as it was
        return
    last = session.pop(LAST_SEARCH)
    if not isinstance(last, dict) or not isinstance(last.get("q"), str):
        return
    rt = runtime()
    if rt.clock().timestamp() - last.get("at", 0) <= FRESH and topic_key not in (last.get("offered") or ()):
        search_feedback.record(rt, _session_key(), last["q"], topic_key, now=rt.clock())


def _session_key() -> str:
    return "web:" + str(session.get("sid") or "")

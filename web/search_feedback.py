"""The portal's side of search feedback (engine.search_feedback): an explicit search (the form submitted, not the live
search while typing) that found nothing is counted at once, and opening a topic the last fresh search did not offer
counts the phrase with that topic.

What the last search offered lives in a small plain cookie of its own, not in the signed session: the live search
sends a new phrase with each keystroke, and re-signing the session cookie for it was a third of that request. The
cookie is unsigned on purpose: the worst a forged one can do is count one phrase with the topic actually opened
(itself checked against the catalog by the topic page's route), which typing that phrase can do anyway, within the
same per-session flood cap. Anything unreadable in it (too long, not base64 JSON, wrong types) counts as no search.
"""
from __future__ import annotations

import base64
import json

from flask import Response, current_app, request, session
from werkzeug.http import dump_cookie

from engine import search_feedback
from web.context import runtime
from web.fragments import Remembered

COOKIE = "helpdesk_search"  # base64url of JSON [unix seconds, phrase, [offered topic keys]]
MAX_COOKIE = 4_096  # characters, as browsers keep; a longer one is ignored (the portal writes at most ~2,100)
MAX_PHRASE = search_feedback.MAX_PHRASE * 2  # characters of the phrase kept (normalise cuts it to MAX_PHRASE)
FRESH = 900  # seconds after a search in which opening a topic counts as its outcome (also the cookie's Max-Age)
RESTAMP_AFTER = 60  # seconds after which the same search again renews its time (FRESH counts from it)
MAX_READ = 2_000  # cookies read and remembered (a browser repeating a search sends the same one)
_TAIL = "search_feedback.set_cookie_tail"  # app.extensions key: the cookie's attributes, formatted
_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def searched(phrase: str, found, explicit: bool, response: Response) -> None:
    """Remember what a search offered (on `response`); an explicit search that found nothing is recorded now."""
    rt = runtime()
    now, phrase, offered = int(rt.clock().timestamp()), phrase[:MAX_PHRASE], tuple([s.topic.key for s in found])
    last = _last_search()
    # The same search again within a minute (htmx repeating a request) sends no cookie.
    if last is None or last[1:] != (phrase, offered) or not 0 <= now - last[0] < RESTAMP_AFTER:
        value = base64.urlsafe_b64encode(_to_json([now, phrase, offered]).encode()).decode("ascii")
        response.headers.add("Set-Cookie", _set_cookie_header(value))
    if explicit and not found:
        search_feedback.record(rt, _session_key(), phrase, now=rt.clock())


def chose(topic_key: str, response: Response) -> None:
    """A topic page was opened: if a fresh search did not offer that topic, record the phrase with it; the search is
    forgotten either way."""
    if COOKIE not in request.cookies:  # most visits
        return
    response.delete_cookie(COOKIE, **_attributes())
    last = _last_search()
    if last is None:
        return
    rt = runtime()
    at, phrase, offered = last
    if 0 <= rt.clock().timestamp() - at <= FRESH and topic_key not in offered:
        search_feedback.record(rt, _session_key(), phrase, topic_key, now=rt.clock())


def _last_search() -> tuple[int, str, tuple[str, ...]] | None:
    """(unix seconds, phrase, offered topic keys) from this browser's cookie; None for none or garbage."""
    raw = request.cookies[COOKIE] if COOKIE in request.cookies else None  # .get raises and catches a KeyError
    if not raw or len(raw) > MAX_COOKIE:
        return None
    return _read.get((raw,), lambda: _decoded(raw))  # a browser repeating a search sends the same cookie again


_read: Remembered[tuple[int, str, tuple[str, ...]]] = Remembered(MAX_READ)


def _decoded(raw: str) -> tuple[int, str, tuple[str, ...]] | None:
    try:
        at, phrase, offered = json.loads(base64.urlsafe_b64decode(raw))
    except (ValueError, TypeError, RecursionError):  # not base64, not UTF-8, not JSON, not three items; nested deep
        return None
    if (type(at) is not int or not isinstance(phrase, str) or not isinstance(offered, list)
            or not all(isinstance(key, str) for key in offered)):
        return None
    return at, phrase[:MAX_PHRASE], tuple(offered)


def _set_cookie_header(value: str) -> str:
    """The `Set-Cookie` header for `value` (base64url: nothing to quote), its attributes formatted once per app."""
    tail = current_app.extensions.get(_TAIL)
    if tail is None:
        cookie = dump_cookie(COOKIE, "", max_age=FRESH, sync_expires=False, **_attributes())
        tail = current_app.extensions[_TAIL] = cookie.partition(";")[2]
    return f"{COOKIE}={value};{tail}"


def _attributes() -> dict:
    """The session cookie's path, domain, Secure and SameSite, and HttpOnly: scripts never read it."""
    app, cookies = current_app, current_app.session_interface
    return {"path": cookies.get_cookie_path(app), "domain": cookies.get_cookie_domain(app),
            "secure": cookies.get_cookie_secure(app), "samesite": cookies.get_cookie_samesite(app), "httponly": True}


def _session_key() -> str:
    return "web:" + str(session.get("sid") or "")

"""What the last topic search offered lives in a plain cookie of its own (web/search_feedback.py): the live search never
changes the signed session cookie, and whatever a browser sends back in that cookie gives no error and records
nothing but a phrase with the topic actually opened."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from engine.store.models import SearchFeedback
from web.search_feedback import COOKIE, FRESH, MAX_COOKIE, RESTAMP_AFTER

HTMX = {"HX-Request": "true"}
TOPIC = "/c/chats/chat-problem"


class Clock:
    def __init__(self):
        self.now = datetime.now(timezone.utc)

    def __call__(self):
        return self.now


@pytest.fixture
def clock(rt):
    rt.clock = Clock()
    return rt.clock


def _set_cookies(response) -> dict[str, str]:
    """Cookie name -> its whole Set-Cookie header."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def _encoded(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, ensure_ascii=False).encode()).decode()


def _recorded() -> set:
    return {(r.phrase, r.topic_key, r.count) for r in SearchFeedback.select()}


def test_the_live_search_sets_only_its_own_cookie_and_a_topic_page_forgets_it(as_role, clock):
    customer = as_role("customer")
    first = customer.get("/search?q=голубиная+почта", headers=HTMX)
    cookie = _set_cookies(first)
    assert list(cookie) == [COOKIE]  # the session cookie stays as it was
    assert all(part in cookie[COOKIE] for part in (f"Max-Age={FRESH}", "HttpOnly", "Path=/", "SameSite=Lax"))
    assert _set_cookies(customer.get("/search?q=голубиная+почта", headers=HTMX)) == {}  # the same search again
    clock.now += timedelta(seconds=RESTAMP_AFTER)
    assert list(_set_cookies(customer.get("/search?q=голубиная+почта", headers=HTMX))) == [COOKIE]  # renewed
    assert list(_set_cookies(customer.get("/search?q=голубиная+почта+не+доходит", headers=HTMX))) == [COOKIE]

    assert "Max-Age=0" in _set_cookies(customer.get(TOPIC))[COOKIE] and customer.client.get_cookie(COOKIE) is None
    assert COOKIE not in _set_cookies(customer.get(TOPIC))  # nothing left to forget
    assert _recorded() == {("голубиная почта не доходит", "chats/chat-problem", 1)}


def test_a_search_older_than_fresh_records_nothing(as_role, clock):
    customer = as_role("customer")
    customer.get("/search?q=голубиная+почта", headers=HTMX)
    clock.now += timedelta(seconds=FRESH + 1)
    assert customer.get(TOPIC).status_code == 200
    assert _recorded() == set()


def _hostile(now: int) -> dict[str, str]:
    return {
        "huge": "x" * (MAX_COOKIE + 1),
        "long phrase, cut": _encoded([now, "голубиная почта " * 200, []])[:MAX_COOKIE + 500],
        "not base64": "not base64 at all!",
        "not utf-8": base64.urlsafe_b64encode(b"\xff\xfe not utf-8").decode(),
        "not a list": _encoded("not a list"),
        "a dict": _encoded({"q": "голубиная почта", "offered": [], "at": now}),
        "two items": _encoded([now, "голубиная почта"]),
        "time as text": _encoded([str(now), "голубиная почта", []]),
        "phrase as list": _encoded([now, ["голубиная почта"], []]),
        "offered as text": _encoded([now, "голубиная почта", "chats/chat-problem-and-more"]),  # no substring match
        "offered numbers": _encoded([now, "голубиная почта", [1, 2]]),
        "nested deep": base64.urlsafe_b64encode(b"[" * 3_000).decode(),
        "future": _encoded([now + 3_600, "голубиная почта", []]),
        "stale": _encoded([now - FRESH - 1, "голубиная почта", []]),
    }


@pytest.mark.filterwarnings("ignore:The 'helpdesk_search' cookie is too large")  # the test client's, sending one
def test_a_hostile_search_cookie_gives_no_error_and_records_nothing(as_role, clock):
    customer = as_role("customer")
    for case, value in _hostile(int(clock.now.timestamp())).items():
        customer.client.set_cookie(COOKIE, value)
        assert customer.get(TOPIC).status_code == 200, case
        assert customer.client.get_cookie(COOKIE) is None, case  # forgotten all the same
        customer.client.set_cookie(COOKIE, value)
        assert customer.get("/search?q=отчет+не+формируется", headers=HTMX).status_code == 200, case
        assert customer.get("/c/reports/report-export").status_code == 200, case  # replaced by a search offering it
        assert _recorded() == set(), case


def test_a_forged_offer_counts_only_the_phrase_with_the_topic_opened(as_role, clock):
    """Unknown topic keys in the cookie can match no opened topic: the one recorded is the page's, which the route
    checked against the catalog (the same as typing the phrase and opening that topic)."""
    customer = as_role("customer")
    forged = _encoded([int(clock.now.timestamp()), "голубиная почта", ["no/such-topic", "<script>"]])
    customer.client.set_cookie(COOKIE, forged)
    assert customer.get("/c/no/such-topic").status_code == 404
    assert _recorded() == set()
    assert customer.get(TOPIC).status_code == 200
    assert _recorded() == {("голубиная почта", "chats/chat-problem", 1)}


def test_anonymous_visitors_get_no_search_cookie_and_record_nothing(app, clock):
    client = app.test_client()
    searched = client.get("/search?q=голубиная+почта", headers=HTMX)
    assert searched.status_code == 302 and COOKIE not in _set_cookies(searched)
    client.set_cookie(COOKIE, _encoded([int(clock.now.timestamp()), "голубиная почта", []]))
    assert client.get(TOPIC).status_code == 302
    assert _recorded() == set()

"""Search feedback: anonymised, normalised, counted phrases; a session cannot flood the table; the admin listing
suggests keywords for the topic chosen."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine import search_feedback
from engine.store.models import SearchFeedback

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("typed", "stored"), [
    ("  Отчёт НЕ формируется!!! ", "отчет не формируется"),
    ("ЛК 123456, почта anna.k@example.com — не пускает", "лк # почта @ не пускает"),
    ("пожалуйста", ""),  # nothing but function words: not worth a row
    ("12345", ""),
    (None, ""),
])
def test_phrases_are_normalised_and_anonymised(typed, stored):
    assert search_feedback.normalise(typed) == stored


def test_a_long_phrase_is_cut_at_a_word():
    stored = search_feedback.normalise("отчет " * 100)
    assert len(stored) <= search_feedback.MAX_PHRASE and stored.endswith("отчет")


def test_repeated_phrases_are_counted_without_who_typed_them(rt):
    assert search_feedback.record(rt, "web:a", "Голубиная почта", now=NOW)
    assert search_feedback.record(rt, "web:b", "голубиная  почта!", now=NOW + timedelta(minutes=1))
    assert search_feedback.record(rt, "web:b", "голубиная почта", "chats/chat-problem", now=NOW)
    rows = [(r.phrase, r.topic_key, r.count, r.last_seen) for r in SearchFeedback.select().order_by(SearchFeedback.id)]
    assert rows == [("голубиная почта", "", 2, NOW + timedelta(minutes=1)), ("голубиная почта", "chats/chat-problem", 1, NOW)]
    assert {f.name for f in SearchFeedback._meta.sorted_fields} == {
        "id", "phrase", "topic_key", "count", "first_seen", "last_seen", "dismissed_at"}  # nothing about the person


def test_a_flooding_session_is_capped_and_the_table_stops_growing(rt, monkeypatch):
    recorded = [search_feedback.record(rt, "tg:bot:1", f"фраза номер {word}", now=NOW)
                for word in ("один", "два", "три", "четыре", "пять", "шесть", "семь")]
    assert recorded == [True] * search_feedback.PER_SESSION + [False] * 2
    assert SearchFeedback.select().count() == search_feedback.PER_SESSION
    monkeypatch.setattr(search_feedback, "MAX_ROWS", search_feedback.PER_SESSION)
    assert not search_feedback.record(rt, "tg:bot:2", "совсем новая фраза", now=NOW)  # full: no new phrase
    assert search_feedback.record(rt, "tg:bot:2", "фраза номер один", now=NOW)  # a known one still counts
    assert SearchFeedback.get(SearchFeedback.phrase == "фраза номер один").count == 2


def test_listing_suggests_keywords_for_the_chosen_topic_and_dismiss_hides_until_typed_again(rt):
    search_feedback.record(rt, "web:a", "голубиная почта не доходит", "chats/chat-problem", now=NOW)
    search_feedback.record(rt, "web:b", "голубиная почта не доходит", "chats/chat-problem", now=NOW)
    search_feedback.record(rt, "web:a", "квантовый телепорт", now=NOW)
    rows = search_feedback.open_feedback(rt.catalog)
    assert [(r.phrase, r.count, r.topic.key if r.topic else None) for r in rows] == [
        ("голубиная почта не доходит", 2, "chats/chat-problem"), ("квантовый телепорт", 1, None)]
    assert rows[0].keywords == ("голубиная", "почта", "доходит")
    assert search_feedback.dismiss(rows[0].id, now=NOW + timedelta(minutes=5))
    assert [r.phrase for r in search_feedback.open_feedback(rt.catalog)] == ["квантовый телепорт"]
    search_feedback.record(rt, "web:c", "голубиная почта не доходит", "chats/chat-problem", now=NOW + timedelta(minutes=9))
    assert [r.count for r in search_feedback.open_feedback(rt.catalog)] == [3, 1]
    assert not search_feedback.dismiss(10**9)


def test_nothing_is_recorded_while_redis_is_down(rt, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown

    def down(*args, **kwargs):
        raise RedisDown("down")

    monkeypatch.setattr(type(rt.redis), "pipeline", down)
    assert not search_feedback.record(rt, "web:a", "что-то", now=NOW)
    assert SearchFeedback.select().count() == 0

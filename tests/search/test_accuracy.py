"""The search finds the right category for real customer phrases (tests/data/search_phrases.yaml)."""
from __future__ import annotations

from engine.search import suggest

MIN_TOP3_ACCURACY = 0.90


def test_the_phrase_set_is_large_enough_and_names_real_topics(catalog, phrases):
    """At least 60 phrases, each expecting a category (and topic) that the shipped catalog has."""
    assert len(phrases) >= 60
    for case in phrases:
        assert catalog.category(case["category"]), case
        if "topic" in case:
            assert catalog.topic(f"{case['category']}/{case['topic']}"), case


def test_top3_category_accuracy_is_at_least_90_percent(catalog, phrases):
    """The expected category is among the categories of the first three suggestions for 90% of phrases."""
    misses = []
    for case in phrases:
        categories = [s.category.id for s in suggest(catalog, case["phrase"], limit=3)]
        if case["category"] not in categories:
            misses.append((case["phrase"], case["category"], categories))
    accuracy = 1 - len(misses) / len(phrases)
    assert accuracy >= MIN_TOP3_ACCURACY, misses


def test_expected_topics_are_in_the_top_three_for_most_phrases(catalog, phrases):
    """Where a phrase names a topic, that exact topic is among the first three suggestions for 90% of them."""
    cases = [c for c in phrases if "topic" in c]
    hits = sum(
        f"{c['category']}/{c['topic']}" in [s.topic.key for s in suggest(catalog, c["phrase"], limit=3)]
        for c in cases
    )
    assert hits / len(cases) >= MIN_TOP3_ACCURACY

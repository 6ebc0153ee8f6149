"""suggest(): ranking, typos, layouts, channels, limits, hostile input and the per-version index cache."""
from __future__ import annotations

import time

import pytest

from engine.catalog import load_catalog
from engine.search import Suggestion, index_for, suggest


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("хочу купить новый АОН", "telephony/caller-id-purchase"),
        ("увеличить кредитный лимит", "finance/credit-limit"),
        ("согласовать шаблон сообщения для whatsapp", "chats/wa-template"),
        ("в отчете пустые поля", "reports/report-data"),
        ("сообщения в панели оператора дублируются", "operator-panel/panel-problem"),
        ("как скопировать сценарий в другой кабинет", "bots/copy-scenario"),
        ("пополнить баланс дочерней компании", "resellers/sub-balance"),
        ("глобалтелеком ошибка в телефонии", "globaltelecom/telephony-error"),
        ("TWIN массово все упало", "twin/incident"),
        ("Новая BPL функция", "bots/bpl-feature"),
        ("панель опреатора зависает", "operator-panel/panel-problem"),  # typo
        ("отчот не загружается", "reports/report-export"),  # typo
        ("yt hf,jnftn j,pdjy", "telephony/telephony-problem"),  # "не работает обзвон" on the Latin layout
        ("ne formiruetsya otchet", "reports/report-export"),  # transliteration
        ("отключить sip trunk", "telephony/trunk-disconnect"),  # Latin jargon
    ],
)
def test_top_suggestion(catalog, phrase, expected):
    """The first suggestion for a clear phrase is the topic an agent would pick."""
    assert suggest(catalog, phrase)[0].topic.key == expected


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("не формируется отч", "reports/report-export"),
        ("кред", "finance/credit-limit"),
        ("отключить ват", "chats/whatsapp-disable"),
        ("не работает обз", "telephony/telephony-problem"),
    ],
)
def test_the_word_being_typed_counts_as_a_prefix(catalog, phrase, expected):
    """Live search: the unfinished last word already finds the words it begins."""
    assert suggest(catalog, phrase)[0].topic.key == expected


def test_a_finished_short_word_is_not_a_prefix(catalog):
    """After a space the word is complete: "отч " is no known word."""
    assert suggest(catalog, "отч ") == []


@pytest.mark.parametrize(
    "phrase",
    ["", "   ", "!!!", "и в на не", "zzzzzzzz qqqqqqq", None, 42],
)
def test_nothing_to_suggest(catalog, phrase):
    """Empty, stopword-only, meaningless and non-text input give no suggestion instead of an error."""
    assert suggest(catalog, phrase) == []


@pytest.mark.parametrize(
    "phrase",
    ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "'; DROP TABLE tickets; --", "%_\\x00\u202e", "ё" * 400],
)
def test_hostile_phrases_are_just_text(catalog, phrase):
    """Markup, SQL and control characters are searched as plain words, never an error."""
    assert all(isinstance(s, Suggestion) for s in suggest(catalog, phrase))


def test_suggestions_carry_their_category_sorted_best_first(catalog):
    results = suggest(catalog, "не работает телефония", limit=5)
    assert len(results) == 5
    assert all(isinstance(s, Suggestion) and s.category.id == s.topic.category_id for s in results)
    assert [s.score for s in results] == sorted((s.score for s in results), reverse=True)


@pytest.mark.parametrize(("limit", "count"), [(1, 1), (3, 3), (0, 0), (-1, 0)])
def test_limit(catalog, limit, count):
    assert len(suggest(catalog, "не формируется отчет", limit=limit)) == count


def test_channel_filter_offers_only_that_channels_topics(planetahost):
    """PlanetaHost offers hosting and billing on the web only; the bot sees the single general topic."""
    assert suggest(planetahost, "не зачислен платеж", channel="web")[0].topic.key == "support/billing"
    assert [s.topic.key for s in suggest(planetahost, "вопрос по оплате", channel="telegram")] == ["support/general"]
    assert suggest(planetahost, "вопрос по оплате", channel="email") == []


def test_a_category_closed_to_a_channel_hides_its_topics(config_dir):
    """A web-only category keeps its topics out of the bot even if a topic lists telegram."""
    path = config_dir / "categories" / "finance.yaml"
    text = path.read_text(encoding="utf-8").replace("order: 80\n", "order: 80\nchannels: [web]\n", 1)
    path.write_text(text.replace("    form: credit-limit\n", "    form: credit-limit\n    channels: [web, telegram]\n", 1), encoding="utf-8")
    catalog = load_catalog(config_dir)
    assert suggest(catalog, "кредитный лимит", channel="web")[0].topic.key == "finance/credit-limit"
    assert all(s.category.id != "finance" for s in suggest(catalog, "кредитный лимит", channel="telegram"))


def test_a_long_phrase_is_answered_quickly(catalog):
    """A pasted wall of text is cut to the search box's size, so one query stays cheap."""
    suggest(catalog, "warm up")
    start = time.perf_counter()
    results = suggest(catalog, "не работает обзвон и отчет " * 5000)
    assert time.perf_counter() - start < 0.5
    assert results[0].category.id in {"telephony", "reports"}


def test_index_is_built_once_per_catalog_version(catalog, config_dir):
    """The same version reuses its index; a changed config gets a new one that knows the new topic."""
    assert index_for(catalog) is index_for(load_catalog(catalog.config_dir))
    topic_file = config_dir / "categories" / "finance.yaml"
    topic_file.write_text(topic_file.read_text(encoding="utf-8") + (
        "  - id: crypto\n"
        "    title: Оплата криптовалютой\n"
        "    description: Вопросы по оплате в биткоинах.\n"
        "    form: general\n"
    ), encoding="utf-8")
    changed = load_catalog(config_dir)
    assert changed.version != catalog.version
    assert index_for(changed) is not index_for(catalog)
    assert suggest(changed, "оплата биткоинами")[0].topic.key == "finance/crypto"

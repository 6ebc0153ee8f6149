"""Catalog texts in two languages: `{ru: ..., en: ...}`, the default locale as fallback, warnings on a missing one."""
from __future__ import annotations

import pickle

from engine.catalog import load_catalog
from engine.catalog.texts import LocalText
from engine.forms import validate_field
from engine.search import suggest

BILINGUAL = """
id: chats
title: {ru: Чаты, en: Chats}
keywords: {ru: [виджет], en: [widget]}
topics:
  - id: chat-problem
    title: {ru: Проблема с чатами, en: Chat problems}
    description: {en: Messages do not arrive}
    form: chat-problem
    keywords: [чат]
"""


def test_per_locale_texts_fall_back_to_the_default_locale(mini):
    mini.write("categories/chats.yaml", BILINGUAL)
    mini.write("forms/fields.yaml", "fields:\n  account_id:\n    label: {ru: Номер ЛК, en: Account number}\n"
                                    "    help: В правом верхнем углу.\n")
    catalog = load_catalog("config")
    chats = catalog.category("chats")
    topic = chats.topics[0]
    assert (chats.title, chats.title.in_("en"), chats.title.in_("ru")) == ("Чаты", "Chats", "Чаты")
    assert chats.keywords == ("виджет", "widget")
    assert (topic.description, topic.description.in_("ru")) == ("Messages do not arrive", "Messages do not arrive")
    field = catalog.forms["chat-problem"].field("account_id")
    assert (field.label, field.label.in_("en"), field.help) == ("Номер ЛК", "Account number", "В правом верхнем углу.")
    assert type(field.help) is str  # a plain string stays one
    assert pickle.loads(pickle.dumps(chats.title)).in_("en") == "Chats"


def test_search_finds_a_topic_by_its_english_words(mini):
    mini.write("categories/chats.yaml", BILINGUAL)
    catalog = load_catalog("config")
    assert [s.topic.key for s in suggest(catalog, "chat problems")][:1] == ["chats/chat-problem"]


def test_option_labels_in_two_languages(mini):
    mini.write("forms/chat-problem.yaml", "id: chat-problem\nextends: default\nfields:\n  - id: channel\n    type: select\n"
                                          "    options: [Telegram, {value: Другое, label: {ru: Другое, en: Other}}]\n")
    options = load_catalog("config").forms["chat-problem"].field("channel").options
    assert [(o.value, o.label) for o in options] == [("Telegram", None), ("Другое", "Другое")]
    assert isinstance(options[1].label, LocalText) and options[1].label.in_("en") == "Other"


def test_missing_declared_locale_is_a_warning_per_file(mini):
    mini.write("policies.yaml", "policies:\n  locales: [ru, en]\n")
    mini.write("categories/chats.yaml", BILINGUAL)
    warnings = [str(w) for w in load_catalog("config").warnings if "version" in w.message]
    assert warnings == [
        "config/categories/chats.yaml:7: warning: topics.0.description: a text has no 'ru' version, the first here: write {ru: ..., en: ...}",
        "config/categories/chats.yaml:9: warning: topics.0.keywords: a text has no 'en' version, the first here: write {ru: ..., en: ...}",
        "config/forms/chat-problem.yaml:7: warning: fields.1.label: a text has no 'en' version, the first here: write {ru: ..., en: ...}",
        "config/forms/default.yaml:5: warning: fields.0.label: 3 texts have no 'en' version, the first here: write {ru: ..., en: ...}",
        "config/forms/fields.yaml:3: warning: fields.account_id.label: 2 texts have no 'en' version, the first here: write {ru: ..., en: ...}",
        "config/notifications/types.yaml:3: warning: types.low_balance.title: 2 texts have no 'en' version, the first here: write {ru: ..., en: ...}",
    ]


def test_pattern_message_in_the_customers_locale(mini):
    mini.write("forms/fields.yaml", "fields:\n  account_id:\n    label: ЛК\n    help: Вверху справа.\n    pattern: '^\\d+$'\n"
                                    "    pattern_message: {ru: Только цифры., en: Digits only.}\n")
    catalog = load_catalog("config")
    field = catalog.forms["chat-problem"].field("account_id")
    assert validate_field(catalog, field, "abc", "en") == "Digits only."
    assert validate_field(catalog, field, "abc", "ru") == "Только цифры."

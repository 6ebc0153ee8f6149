"""config/replies/*.yaml: canned replies load with their topics, and every mistake is `file:line: key: message`."""
from __future__ import annotations

import pytest

from engine.catalog import load_catalog

GOOD = """
    id: greeting
    title: Приветствие
    body: "Здравствуйте, {{ customer_name }}! Заявка №{{ ticket_number }}: {{ fields.account_id }}"
    """


def test_replies_load_sorted_by_title_and_filtered_by_topic(mini):
    mini.write("replies/greeting.yaml", GOOD)
    mini.write("replies/chats-only.yaml", "id: chats-only\ntitle: Анкета чата\ntopics: [chats/chat-problem]\nbody: текст\n")
    mini.write("replies/category.yaml", "id: category\ntitle: Вся категория\ntopics: [chats]\nbody: текст\n")
    catalog = load_catalog("config")
    assert list(catalog.replies) == ["chats-only", "category", "greeting"]
    assert [r.id for r in catalog.replies_for("chats", "chat-problem")] == ["chats-only", "category", "greeting"]
    assert [r.id for r in catalog.replies_for("chats", "other")] == ["category", "greeting"]
    assert [r.id for r in catalog.replies_for("gone", "topic")] == ["greeting"]


def test_no_replies_folder_means_no_replies(mini):
    assert load_catalog("config").replies == {}


CASES = [
    pytest.param(
        {"replies/a.yaml": "id: a\ntitle: A\nbody: '{{ name }}'\n"},
        ["config/replies/a.yaml:3: body: template uses undeclared param 'name' (declared params: customer_name, "
         "ticket_number, subject, topic, category, priority, fields, agent_name)"],
        id="undeclared-param",
    ),
    pytest.param(
        {"replies/a.yaml": "id: a\ntitle: A\nbody: |\n  line\n  {{ fields.__class__ }}\n"},
        ["config/replies/a.yaml:3: body: template line 2: Python internals are not allowed: '__class__'"],
        id="sandbox-internals",
    ),
    pytest.param(
        {"replies/a.yaml": "id: a\ntitle: A\nbody: '{% if customer_name %}'\n"},
        ["config/replies/a.yaml:3: body: template syntax error on template line 1: Unexpected end of template. "
         "Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs "
         "to be closed is 'if'."],
        id="syntax",
    ),
    pytest.param(
        {"replies/a.yaml": "id: a\ntitle: A\nbody: x\ntopics:\n  - chats/chat-problem\n  - chats/chat-problme\n  - chatz\n"},
        [
            "config/replies/a.yaml:6: topics.1: unknown topic or category 'chats/chat-problme' (did you mean 'chats/chat-problem'?)",
            "config/replies/a.yaml:7: topics.2: unknown topic or category 'chatz' (did you mean 'chats'?)",
        ],
        id="unknown-topics",
    ),
    pytest.param(
        {"replies/a.yaml": "id: same\ntitle: A\nbody: x\n", "replies/b.yaml": "id: same\ntitle: B\nbody: y\n"},
        ["config/replies/b.yaml:1: id: duplicate canned reply id 'same' (also in config/replies/a.yaml:1)"],
        id="duplicate-id",
    ),
    pytest.param(
        {"replies/a.yaml": "id: a\ntitel: A\nbody: ''\n"},
        [
            "config/replies/a.yaml:1: title: missing required key",
            "config/replies/a.yaml:2: titel: unknown key (did you mean 'title'?)",
            "config/replies/a.yaml:3: body: must not be empty",
        ],
        id="schema",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CASES)
def test_reply_errors(mini, files, expected):
    for rel, text in files.items():
        mini.write(rel, text)
    assert mini.errors() == expected


def test_topics_are_not_checked_while_a_category_file_is_broken(mini):
    """The category file's own error explains it; no cascade of unknown topics."""
    mini.write("categories/chats.yaml", "id: chats\ntitle: [broken\n")
    mini.write("replies/a.yaml", "id: a\ntitle: A\nbody: x\ntopics: [chats/chat-problem]\n")
    assert [e.split(":")[0] for e in mini.errors()] == ["config/categories/chats.yaml"]


def test_a_reply_per_locale_is_checked_per_variant(mini):
    mini.write("replies/a.yaml", "id: a\ntitle: {ru: Привет, en: Hello}\nbody:\n  ru: '{{ customer_name }}'\n"
                                 "  en: '{{ name }}'\n")
    assert mini.errors() == ["config/replies/a.yaml:5: body.en: template uses undeclared param 'name' (declared params: "
                             "customer_name, ticket_number, subject, topic, category, priority, fields, agent_name)"]
    mini.write("replies/a.yaml", "id: a\ntitle: {ru: Привет, en: Hello}\nbody: {ru: 'Привет', en: 'Hello'}\n")
    reply = load_catalog("config").replies["a"]
    assert (reply.title.in_("en"), reply.body.in_("en"), reply.body) == ("Hello", "Hello", "Привет")

"""Lint warnings: shown with file:line, never blocking a load."""
from __future__ import annotations

from engine.catalog import load_catalog

KEYWORDS = "id: chats\ntitle: Чаты\ntopics:\n  - {id: chat-problem, title: Проблема с чатами, form: chat-problem, keywords: [чат]}\n"


def _warnings(mini) -> list[str]:
    return [str(w) for w in load_catalog("config").warnings]


def test_each_warning(mini):
    mini.write("categories/chats.yaml", KEYWORDS + "  - {id: other, title: Иное}\n")
    mini.write("categories/bots.yaml", "id: bots\ntitle: Боты\ntopics:\n  - id: other\n    title: ' иное'\n    keywords: [бот]\n")
    mini.write("forms/fields.yaml", "fields:\n  account_id:\n    label: Номер ЛК\n  chat:\n    label: ID чата\n")
    mini.write("forms/chat-problem.yaml", "id: chat-problem\nextends: default\nfields:\n  - use: account_id\n  - use: chat\n"
                                          "  - {id: bot_id, type: integer, help: В настройках бота}\n")
    mini.write("notifications/types.yaml", "types:\n  low_balance:\n    title: Низкий баланс\n    source: event\n"
                                           "    params: {balance: number, currency: string}\n    default_channels: [telegram]\n"
                                           "    templates:\n      telegram: 'Баланс {{ balance }}'\n")
    assert _warnings(mini) == [
        "config/categories/chats.yaml:5: warning: topics.1.id: topic 'other' has no keywords: add words customers would type to find it",
        "config/categories/chats.yaml:5: warning: topics.1.title: topic title 'Иное' is also used in bots: customers searching see alike topics; make the titles differ if they are different requests",
        "config/forms/fields.yaml:3: warning: fields.account_id.label: field 'account_id' asks for an identifier but has no help: say where to find it (help: ...)",
        "config/forms/fields.yaml:5: warning: fields.chat.label: field 'chat' asks for an identifier but has no help: say where to find it (help: ...)",
        "config/notifications/types.yaml:5: warning: types.low_balance.params.currency: param 'currency' is never used by a template of 'low_balance'",
    ]


def test_no_warning_for_a_clean_config(mini):
    mini.write("categories/chats.yaml", KEYWORDS)
    assert _warnings(mini) == []


def test_ticket_types_must_be_ones_the_engine_raises(mini):
    mini.write("categories/chats.yaml", KEYWORDS)
    mini.write("notifications/types.yaml", "types:\n  ticket_closed:\n    title: Закрыт\n    source: ticket\n    default_channels: [web]\n"
                                           "    templates: {web: Закрыт}\n  support_reply:\n    title: Ответ\n    source: ticket\n"
                                           "    params: {reply: string, agent: string}\n    default_channels: [web]\n"
                                           "    templates: {web: '{{ reply }} {{ agent }}'}\n")
    mini.write("notifications/channels.yaml", "channels:\n  web: {kind: web}\n")
    assert _warnings(mini) == [
        "config/notifications/types.yaml:4: warning: types.ticket_closed.source: the engine never raises 'ticket_closed' "
        "(it raises ticket_created, support_reply, ticket_archived, ticket_auto_closed, auto_close_reminder, sla_warning, sla_breach); "
        "use source: event to post it through the events API",
        "config/notifications/types.yaml:10: warning: types.support_reply.params.agent: the engine does not pass 'agent' with "
        "'support_reply' (it passes ticket_number, subject, topic, category, reply)",
    ]

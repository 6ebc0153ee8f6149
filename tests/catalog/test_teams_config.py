"""config/teams.yaml: teams load with their routing (first match wins, then the default), and every mistake is
`file:line: key: message`."""
from __future__ import annotations

import pytest

from engine.catalog import load_catalog

TEAMS = """
    teams:
      chats:
        title: {ru: Чаты, en: Chats}
        members: [Anna@Example.com, ivan@example.com]
        notify: {telegram: "-1001234567890"}
      telegram:
        title: Telegram
      general:
        title: Общая
    routing:
      - team: telegram
        topic: chats/chat-problem
        fields: {channel: Telegram}
      - team: chats
        category: chats
        priority: [normal, urgent]
    default: general
    """


def test_first_matching_rule_wins_then_the_default(mini):
    mini.write("teams.yaml", TEAMS)
    catalog = load_catalog("config")
    route = catalog.routing.route
    assert route("chats", "chat-problem", "normal", {"channel": "Telegram", "account_id": "1"}) == "telegram"
    assert route("chats", "chat-problem", "normal", {"channel": "WhatsApp"}) == "chats"  # field value differs
    assert route("chats", "chat-problem", "normal", {}) == "chats"  # a field the ticket lacks does not match
    assert route("chats", "other", "low", {"channel": "Telegram"}) == "general"  # priority low: no rule
    assert list(catalog.teams) == ["chats", "telegram", "general"]
    chats = catalog.teams["chats"]
    assert (chats.title, chats.title.in_("en"), chats.members) == ("Чаты", "Chats", ("anna@example.com", "ivan@example.com"))
    assert dict(chats.notify) == {"telegram": "-1001234567890"}
    assert chats.member_lines["ivan@example.com"] == 4
    assert [t.id for t in catalog.teams_of("ANNA@example.com")] == ["chats"]


def test_no_teams_file_means_no_teams(mini):
    catalog = load_catalog("config")
    assert catalog.teams == {} and catalog.routing.route("chats", "other", "low", {}) is None


def test_a_rule_without_conditions_matches_every_ticket_and_booleans_compare_as_yaml_writes_them(mini):
    mini.write("teams.yaml", "teams: {a: {title: A}, b: {title: B}}\nrouting:\n  - {team: a, fields: {flag: true}}\n  - {team: b}\n")
    mini.write("forms/default.yaml", "id: default\nfields:\n  - {id: subject, label: S}\n  - {id: message, label: M, type: text}\n  - {id: flag, label: F, type: boolean}\n")
    route = load_catalog("config").routing.route
    assert route("chats", "other", "low", {"flag": True}) == "a"
    assert route("chats", "other", "low", {"flag": False}) == "b"


CASES = [
    pytest.param(
        {"teams.yaml": "teams:\n  a: {title: A}\nrouting:\n  - team: aa\n    category: chatz\n    topic: [chats/other, chats/othr]\ndefault: b\n"},
        ["config/teams.yaml:4: routing.0.team: unknown team 'aa' (did you mean 'a'?)",
         "config/teams.yaml:5: routing.0.category: unknown category 'chatz' (did you mean 'chats'?)",
         "config/teams.yaml:6: routing.0.topic.1: unknown topic 'chats/othr' (did you mean 'chats/other'?)",
         "config/teams.yaml:7: default: unknown team 'b'"],
        id="unknown-references",
    ),
    pytest.param(
        {"teams.yaml": "teams:\n  a:\n    title: A\n    notify: {telegram: '@group', email: nobody}\nrouting:\n  - {team: a, fields: {chanel: x}}\n"},
        ["config/teams.yaml:4: teams.a.notify.email: 'nobody' is not an email address",
         "config/teams.yaml:4: teams.a.notify.telegram: '@group' is not a Telegram chat id (a number; a group's is negative)",
         "config/teams.yaml:6: routing.0.fields.chanel: no form has a field 'chanel' (did you mean 'channel'?)"],
        id="addresses-and-fields",
    ),
    pytest.param(
        {"teams.yaml": "teams:\n  a:\n    title: A\n    members: [not-an-email]\n    notify: {fax: '1'}\n"},
        ["config/teams.yaml:4: teams.a.members.0: 'not-an-email' is not an email address",
         "config/teams.yaml:5: teams.a.notify.fax: must be 'web', 'email' or 'telegram', got 'fax'"],
        id="schema",
    ),
]


@pytest.mark.parametrize("files, expected", CASES)
def test_mistakes_name_file_line_and_key(mini, files, expected):
    mini.write_all(files)
    assert mini.errors() == expected

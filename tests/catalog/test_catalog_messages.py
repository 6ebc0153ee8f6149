"""Mistakes business staff make, reported at the line to fix, in plain words, with the fix."""
from __future__ import annotations

import pytest

from tests.catalog.test_catalog_errors import CATEGORY_HEAD

CASES = [
    pytest.param(
        {"notifications/extra.yaml": "types: {}\n"},
        ["config/notifications/extra.yaml: unknown file, not read: notifications/ may hold only channels.yaml, types.yaml"],
        id="extra-notifications-file",
    ),
    pytest.param(
        {"notifications/type.yaml": "types: {}\n"},
        ["config/notifications/type.yaml: unknown file, not read (did you mean 'types.yaml'?)"],
        id="misspelt-notifications-file",
    ),
    pytest.param(
        {"texts/ru.yaml": "locale: ru\ntelegram:\n  skip: Дальше\n"},
        ["config/texts/: unknown folder, not read (did you mean 'ui/'?)"],
        id="ui-folder-renamed",
    ),
    pytest.param(
        {"categoies/x.yaml": "id: x\n"},
        ["config/categoies/: unknown folder, not read (did you mean 'categories/'?)"],
        id="misspelt-folder",
    ),
    pytest.param(
        {"policy.yaml": "policies: {}\n"},
        ["config/policy.yaml: unknown file, not read (did you mean 'policies.yaml'?)"],
        id="policy-instead-of-policies",
    ),
    pytest.param(
        {"categories/billing.yml": CATEGORY_HEAD + "  - {id: x, title: X}\n", "categories/old/chats.yaml": "id: old\n"},
        [
            "config/categories/billing.yml: unknown file, not read (did you mean 'billing.yaml'?)",
            "config/categories/old/: unknown folder, not read: categories/ may hold only *.yaml",
        ],
        id="wrong-extension-and-subfolder",
    ),
    pytest.param(
        {"notes.txt": "todo\n"},
        ["config/notes.txt: unknown file, not read: the config folder may hold only categories/, forms/, notifications/, replies/, ui/, schema/, policies.yaml, sla.yaml"],
        id="unknown-root-file",
    ),
    pytest.param(
        {"categories/chats.yaml": "id: chats\ntitle: \"Чаты\ndescription: Всё о чатах\ntopics: [{id: x, title: X}]\n"},
        ['config/categories/chats.yaml:2: the quote " opened on this line is never closed: end the value with "'],
        id="unclosed-quote-at-end",
    ),
    pytest.param(
        {"categories/chats.yaml": "id: chats\ntitle: 'Чаты\ndescription: 'Всё о чатах'\ntopics: [{id: x, title: X}]\n"},
        ["config/categories/chats.yaml:2: the quote ' opened on this line is never closed: end the value with '"],
        id="unclosed-quote-before-another",
    ),
    pytest.param(
        {"forms/fields.yaml": "fields:\n  account_id:\n    label: \"ЛК\n    pattern: '^\\d+$'\n    help: \"Где найти \\d\"\n"},
        ['config/forms/fields.yaml:3: the quote " opened on this line is never closed: end the value with "'],
        id="unclosed-quote-then-escape",
    ),
    pytest.param(
        {"forms/fields.yaml": "fields:\n  account_id:\n    label: ЛК\n    pattern: \"^\\d+$\"\n"},
        ["config/forms/fields.yaml:4: in double quotes a backslash starts an escape and \\d is not one: use single quotes around patterns (pattern: '^\\d+$')"],
        id="double-quoted-pattern",
    ),
    pytest.param(
        {"categories/chats.yaml": b"id: chats\ntitle: \xd7\xe0\xf2\xfb\ntopics: [{id: x, title: X}]\n"},
        ["config/categories/chats.yaml:2: the file is not UTF-8: save it as UTF-8"],
        id="cp1251",
    ),
    pytest.param(
        {"categories/chats.yaml": ""},
        ["config/categories/chats.yaml:1: the file is empty"],
        id="empty-file",
    ),
    pytest.param(
        {"forms/chat-problem.yaml": "# yaml-language-server: $schema=../schema/form.schema.json\n# to do\n"},
        ["config/forms/chat-problem.yaml:1: the file is empty"],
        id="comments-only-file",
    ),
    pytest.param(
        {"forms/fields.yaml": "fields:\n  account_id:\n    label: ЛК\n    pattern: '[0-9+'\n"},
        ["config/forms/fields.yaml:4: fields.account_id.pattern: the pattern is not a valid regular expression: a '[' is never closed (at character 1)"],
        id="broken-pattern",
    ),
    pytest.param(
        {"forms/fields.yaml": "fields:\n  account_id:\n    label: ЛК\n    pattern: '*\\d'\n"},
        ["config/forms/fields.yaml:4: fields.account_id.pattern: the pattern is not a valid regular expression: '*', '+', '?' or '{' has nothing before it to repeat (write \\* for the character itself) (at character 1)"],
        id="nothing-to-repeat",
    ),
    pytest.param(
        {"categories/chats.yaml": "id: chats\ntitle:\ntopics:\n  - id: x\n    title: ''\n"},
        [
            "config/categories/chats.yaml:2: title: must not be empty",
            "config/categories/chats.yaml:5: topics.0.title: must not be empty",
        ],
        id="empty-title",
    ),
    pytest.param(
        {
            "forms/fields.yaml": "fields:\n  account_id: {label: ЛК}\n  details:\n    label: Подробности\n    visible_when: {field: channel, equals: Другое}\n",
            "forms/chat-problem.yaml": "id: chat-problem\nextends: default\nfields:\n  - use: details\n  - id: channel\n    type: select\n    options: [Telegram, Другое]\n",
        },
        ["config/forms/chat-problem.yaml:4: fields.0.visible_when: visible_when refers to field 'channel', which does not come before 'details' in form 'chat-problem': move 'details' below 'channel' or give it `after: channel`"],
        id="visible-when-from-library-reported-in-form",
    ),
    pytest.param(
        {"forms/chat-problem.yaml": "id: chat-problem\nextends: default\nfields:\n  - id: channel\n    after: subjet\n  - id: x\n    after: x\n"},
        [
            "config/forms/chat-problem.yaml:5: fields.0.after: unknown field 'subjet' of form 'chat-problem' (did you mean 'subject'?)",
            "config/forms/chat-problem.yaml:7: fields.1.after: a field cannot come after itself",
        ],
        id="after-unknown-field",
    ),
]


@pytest.mark.parametrize("files, expected", CASES)
def test_message(mini, files, expected):
    mini.write_all(files)
    assert mini.errors() == expected


def test_notes_and_hidden_files_are_allowed(mini):
    """README.md, .gitkeep and editor swap files are not config and not errors."""
    mini.write("README.md", "# Our catalog\n")
    mini.write("categories/.chats.yaml.swp", "x")
    mini.write("ui/.gitkeep", "")
    assert mini.errors() == []


def test_a_value_written_over_two_lines_is_not_an_unclosed_quote(mini):
    """A quoted value may span lines; the error below it is reported as YAML's own."""
    mini.write("categories/chats.yaml", 'id: chats\ntitle: "Чаты\n  и рассылки"\ntopics: [{id: x, title: X}\n')
    assert mini.errors() == ["config/categories/chats.yaml:5: YAML syntax error: did not find expected ',' or ']'"]

"""Every kind of config error is reported as `file:line: key.path: message`, all at once."""
from __future__ import annotations

import pytest

CATEGORY_HEAD = "id: chats\ntitle: Чаты\ntopics:\n"

CASES = [
    pytest.param(
        {"categories/chats.yaml": "id: chats\ntitle: [unclosed\n"},
        ["config/categories/chats.yaml:3: YAML syntax error: did not find expected ',' or ']'"],
        id="yaml-syntax",
    ),
    pytest.param(
        {"categories/chats.yaml": CATEGORY_HEAD + "  - id: other\n    tittle: Иное\n"},
        [
            "config/categories/chats.yaml:4: topics.0.title: missing required key",
            "config/categories/chats.yaml:5: topics.0.tittle: unknown key (did you mean 'title'?)",
        ],
        id="unknown-key-and-missing",
    ),
    pytest.param(
        {"categories/chats.yaml": CATEGORY_HEAD + "  - id: other\n    title: Иное\n    priority: critical\n    keywords: слово\n"},
        [
            "config/categories/chats.yaml:6: topics.0.priority: must be 'low', 'normal', 'high' or 'urgent', got 'critical'",
            "config/categories/chats.yaml:7: topics.0.keywords: must be a valid list, got 'слово'",
        ],
        id="wrong-type",
    ),
    pytest.param(
        {"categories/chats.yaml": "title: Чаты\n"},
        [
            "config/categories/chats.yaml:1: id: missing required key",
            "config/categories/chats.yaml:1: topics: missing required key",
        ],
        id="missing-required",
    ),
    pytest.param(
        {"categories/chats.yaml": "- just\n- a list\n"},
        ["config/categories/chats.yaml:1: must be a mapping (key: value), got a list"],
        id="not-a-mapping",
    ),
    pytest.param(
        {"categories/chats.yaml": "id: Chats Main\ntitle: Чаты\ntopics: [{id: other, title: Иное}]\n"},
        ["config/categories/chats.yaml:1: id: invalid id 'Chats Main': use lowercase latin letters, digits, '-' and '_' (at most 40)"],
        id="invalid-id",
    ),
    pytest.param(
        {"forms/fields.yaml": "fields:\n  Account: {label: ЛК}\n  kind:\n    type: select\n    options: [a, {valu: b}, 1.5]\n  lone: Поле\n"},
        [
            "config/forms/fields.yaml:2: fields.Account: invalid id 'Account': use lowercase latin letters, digits, '-' and '_' (at most 40)",
            "config/forms/fields.yaml:5: fields.kind.options.1.valu: unknown key (did you mean 'value'?)",
            "config/forms/fields.yaml:5: fields.kind.options.1.value: missing required key",
            "config/forms/fields.yaml:5: fields.kind.options.2: must be a valid string, got 1.5",
            "config/forms/fields.yaml:6: fields.lone: must be a mapping (key: value), got 'Поле'",
        ],
        id="union-and-dict-key",
    ),
    pytest.param(
        {"ui/en.yaml": "locale: en\nweb:\n  nope: '  '\n"},
        ["config/ui/en.yaml:2: web: text 'nope' is empty"],
        id="empty-ui-text",
    ),
    pytest.param(
        {"categories/chats.yaml": CATEGORY_HEAD + "  - id: x\n    title: X\n    form: chat-problme\n"},
        ["config/categories/chats.yaml:6: topics.0.form: unknown form 'chat-problme' (did you mean 'chat-problem'?)"],
        id="unknown-form",
    ),
    pytest.param(
        {"forms/chat-problem.yaml": "id: chat-problem\nextends: default\nfields:\n  - use: acount_id\n"},
        ["config/forms/chat-problem.yaml:4: fields.0.use: unknown library field 'acount_id' (did you mean 'account_id'?)"],
        id="unknown-library-field",
    ),
    pytest.param(
        {"forms/chat-problem.yaml": "id: chat-problem\nextends: default\nfields:\n  - label: Без имени\n"},
        ["config/forms/chat-problem.yaml:4: fields.0: a field needs `id` (inline field) or `use` (library field)"],
        id="field-without-id-or-use",
    ),
    pytest.param(
        {"categories/other.yaml": "id: chats\ntitle: Ещё чаты\ntopics: [{id: other, title: Иное}]\n"},
        ["config/categories/other.yaml:1: id: duplicate category id 'chats' (also in config/categories/chats.yaml:1)"],
        id="duplicate-category-across-files",
    ),
    pytest.param(
        {"categories/chats.yaml": CATEGORY_HEAD + "  - id: other\n    title: Иное\n  - id: other\n    title: Иное 2\n"},
        ["config/categories/chats.yaml:6: topics.1.id: duplicate topic id 'other' (also at line 4)"],
        id="duplicate-topic",
    ),
    pytest.param(
        {"forms/zz-copy.yaml": "id: default\nfields: []\n"},
        ["config/forms/zz-copy.yaml:1: id: duplicate form id 'default' (also in config/forms/default.yaml:1)"],
        id="duplicate-form",
    ),
    pytest.param(
        {"forms/chat-problem.yaml": "id: chat-problem\nextends: default\nfields:\n  - id: channel\n  - id: channel\n"},
        ["config/forms/chat-problem.yaml:5: fields.1.id: duplicate field id 'channel' (also at line 4)"],
        id="duplicate-field-in-form",
    ),
    pytest.param(
        {"forms/more-fields.yaml": "fields:\n  account_id: {label: ЛК}\n"},
        ["config/forms/more-fields.yaml:2: fields.account_id: duplicate library field 'account_id' (also in config/forms/fields.yaml:2)"],
        id="duplicate-library-field-across-files",
    ),
    pytest.param(
        {"forms/fields.yaml": "fields:\n  account_id: {label: ЛК}\n  account_id: {label: ЛК 2}\n"},
        ["config/forms/fields.yaml:3: fields.account_id: duplicate key 'account_id' (also at line 2)"],
        id="duplicate-yaml-key",
    ),
    pytest.param(
        {"forms/fields.yaml": "fields:\n  account_id:\n    label: ЛК\n    pattern: '^(\\d+$'\n"},
        ["config/forms/fields.yaml:4: fields.account_id.pattern: the pattern is not a valid regular expression: a '(' is never closed (at character 2)"],
        id="invalid-regex",
    ),
    pytest.param(
        {"forms/default.yaml": "id: default\nextends: chat-problem\nfields: []\n"},
        ["config/forms/default.yaml:2: extends: extends cycle: chat-problem -> default -> chat-problem"],
        id="extends-cycle",
    ),
    pytest.param(
        {"forms/chat-problem.yaml": "id: chat-problem\nextends: defualt\nfields: []\n"},
        ["config/forms/chat-problem.yaml:2: extends: unknown parent form 'defualt' (did you mean 'default'?)"],
        id="unknown-parent",
    ),
    pytest.param(
        {"forms/chat-problem.yaml": "id: chat-problem\nfields:\n  - id: subject\n"},
        ["config/forms/chat-problem.yaml:2: fields: form 'chat-problem' has no 'message' field (the first message); add it or extend a form that has it"],
        id="reserved-field-missing",
    ),
    pytest.param(
        {"forms/chat-problem.yaml": """
            id: chat-problem
            extends: default
            fields:
              - id: details
                visible_when: {field: channel, equals: Другое}
              - id: channel
                type: select
                options: [Telegram, Другое]
              - id: extra
                visible_when: {field: chanel, equals: x}
            """},
        [
            "config/forms/chat-problem.yaml:5: fields.0.visible_when: visible_when refers to field 'channel', which does not come before 'details' in form 'chat-problem': move 'details' below 'channel' or give it `after: channel`",
            "config/forms/chat-problem.yaml:10: fields.2.visible_when: visible_when refers to unknown field 'chanel' of form 'chat-problem' (did you mean 'channel'?)",
        ],
        id="visible-when",
    ),
    pytest.param(
        {"forms/chat-problem.yaml": "id: chat-problem\nextends: default\nfields:\n  - id: b\n  - id: a\n    visible_when: {field: b}\n"},
        ["config/forms/chat-problem.yaml:6: fields.1.visible_when: visible_when needs exactly one of `equals` or `in`"],
        id="visible-when-without-value",
    ),
    pytest.param(
        {"forms/chat-problem.yaml": "id: chat-problem\nextends: default\nfields:\n  - id: channel\n    type: select\n"},
        ["config/forms/chat-problem.yaml:5: fields.0.type: select field 'channel' has no options"],
        id="select-without-options",
    ),
    pytest.param(
        {"forms/chat-problem.yaml": "id: chat-problem\nextends: default\nfields:\n  - id: attachments\n    type: string\n"},
        ["config/forms/chat-problem.yaml:5: fields.0.type: the reserved field 'attachments' must have type attachments"],
        id="attachments-type",
    ),
    pytest.param(
        {"notifications/types.yaml": """
            types:
              low_balance:
                title: Низкий баланс
                source: event
                params: {balance: number}
                default_channels: [telegram, email]
                templates:
                  telegram: "Баланс {{ balance }"
                  web: "{{ balance }} {{ currency }} {{ user }}"
            """},
        [
            "config/notifications/types.yaml:6: types.low_balance.default_channels.1: default channel 'email' has no template under templates.email",
            "config/notifications/types.yaml:6: types.low_balance.default_channels.1: no channel binding of kind 'email' in notifications/channels.yaml",
            "config/notifications/types.yaml:8: types.low_balance.templates.telegram: template syntax error on template line 1: unexpected '}'",
            "config/notifications/types.yaml:9: types.low_balance.templates.web: template uses undeclared params 'currency', 'user' (declared params: balance)",
        ],
        id="templates",
    ),
    pytest.param(
        {"notifications/types.yaml": """
            types:
              low_balance:
                title: Низкий баланс
                source: event
                params: {balance: number}
                default_channels: [telegram]
                templates:
                  telegram: "{{ ''.__class__.__mro__[1].__subclasses__() }}"
                  web: "{{ balance|attr('real') }} {{ '{0.real}'.format(balance) }}"
                  email:
                    subject: "{{ balance['__globals__'] }}"
                    body: "{{ balance }}\\n{{ [balance]|map(attribute='gi_frame')|list }} {{ balance.mro() }}"
            """},
        [
            "config/notifications/types.yaml:8: types.low_balance.templates.telegram: template line 1: Python internals are not allowed: '__class__', '__mro__', '__subclasses__'",
            "config/notifications/types.yaml:9: types.low_balance.templates.web: template line 1: calling .format() is not allowed (format strings read Python attributes); use {{ }} and filters",
            "config/notifications/types.yaml:9: types.low_balance.templates.web: template line 1: the attr filter is not allowed (it reads Python attributes)",
            "config/notifications/types.yaml:11: types.low_balance.templates.email.subject: template line 1: Python internals are not allowed: '__globals__'",
            "config/notifications/types.yaml:12: types.low_balance.templates.email.body: template line 2: Python internals are not allowed: 'gi_frame', 'mro'",
        ],
        id="template-escapes",
    ),
    pytest.param(
        {"notifications/channels.yaml": "channels:\n  notify_bot:\n    kind: telegram\n    notifications: [low_balanse]\n"},
        [
            "config/notifications/channels.yaml:2: channels.notify_bot: a telegram binding needs token_env (the variable holding the bot token)",
            "config/notifications/channels.yaml:4: channels.notify_bot.notifications.0: unknown notification type 'low_balanse' (did you mean 'low_balance'?)",
        ],
        id="channel-binding",
    ),
    pytest.param(
        {"notifications/channels.yaml": "channels:\n  bot:\n    kind: telegramm\n  mail:\n    kind: email\n"
                                        "    smtp_url_env: SMTP_URL\n    token_env: BOT_TOKEN\n  nothing: {title: X}\n"},
        [
            "config/notifications/channels.yaml:3: channels.bot.kind: must be 'web', 'email' or 'telegram', got 'telegramm'",
            "config/notifications/channels.yaml:7: channels.mail.token_env: unknown key (allowed: kind, title, serves, notifications, smtp_url_env, from_address)",
            "config/notifications/channels.yaml:8: channels.nothing.kind: missing required key",
        ],
        id="binding-kinds",
    ),
    pytest.param(
        {"ui/ru.yaml": "locale: ru\ntelegram:\n  skip: Дальше\n  skipp: Дальше\n"},
        ["config/ui/ru.yaml:4: telegram.skipp: unknown UI text 'telegram.skipp' (not in the built-in texts) (did you mean 'skip'?)"],
        id="unknown-ui-text",
    ),
    pytest.param(
        {"policies.yaml": "policies:\n  autoclose: {}\n  link_token_ttl: 2w\n"},
        [
            "config/policies.yaml:2: policies.autoclose: unknown key (did you mean 'auto_close'?)",
            "config/policies.yaml:3: policies.link_token_ttl: invalid duration '2w': use a number and one of s, m, h, d (e.g. 2d)",
        ],
        id="unknown-policies-key",
    ),
    pytest.param(
        {"policies.yaml": "policies:\n  auto_close:\n    after: 1d\n    reminder_before: 2d\n"},
        ["config/policies.yaml:4: policies.auto_close.reminder_before: reminder_before (2d) must be shorter than after (1d)"],
        id="reminder-after-close",
    ),
    pytest.param(
        {"policies.yaml": "policies:\n  time_zone: Europe/Moskow\n"},
        ["config/policies.yaml:2: policies.time_zone: unknown time zone 'Europe/Moskow' (an IANA name such as Europe/Moscow or UTC)"],
        id="unknown-time-zone",
    ),
]


@pytest.mark.parametrize("files, expected", CASES)
def test_error_message(mini, files, expected):
    """Each broken file yields exactly these errors, with file, line and key path."""
    for rel, text in files.items():
        mini.write(rel, text)
    assert mini.errors() == expected


def test_minimal_config_is_valid(mini):
    """The fixture's starting point loads without errors."""
    assert mini.errors() == []


def test_all_errors_at_once_sorted(mini):
    """Errors from several files come together, sorted by file and line."""
    mini.write("categories/chats.yaml", CATEGORY_HEAD + "  - id: x\n    title: X\n    form: nope\n")
    mini.write("categories/billing.yaml", "id: billing\ntitle: Деньги\nbogus: 1\ntopics: [{id: x, title: X}]\n")
    mini.write("forms/fields.yaml", "fields:\n  account_id: {label: ЛК, pattern: '('}\n")
    assert mini.errors() == [
        "config/categories/billing.yaml:3: bogus: unknown key (allowed: id, title, description, order, icon, keywords, channels, topics)",
        "config/categories/chats.yaml:6: topics.0.form: unknown form 'nope'",
        "config/forms/fields.yaml:2: fields.account_id.pattern: the pattern is not a valid regular expression: a '(' is never closed (at character 1)",
    ]

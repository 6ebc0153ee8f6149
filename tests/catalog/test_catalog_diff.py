"""What changed between two catalogs (engine.catalog.changes), line by line in English and Russian: each kind of
change with its old and new value."""
from __future__ import annotations

from engine.catalog import load_catalog
from engine.catalog.changes import catalog_diff
from engine.catalog_sync import CatalogHolder

NEW_TOPIC = "  - id: billing\n    title: Оплата\n    priority: normal\n"


def changed(mini, files: dict[str, str]):
    """The diff of the mini config before and after writing `files`."""
    old = load_catalog("config")
    mini.write_all(files)
    return catalog_diff(old, load_catalog("config"))


def test_categories_and_topics_added_removed_and_renamed(mini):
    """A reload lists them with titles; a renamed one shows the old and the new title."""
    holder = CatalogHolder("config")
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты и рассылки\ntopics:\n  - id: other\n    title: Другое\n" + NEW_TOPIC)
    mini.write("categories/money.yaml", "id: money\ntitle: Финансы\ntopics:\n" + NEW_TOPIC)
    result = holder.reload()
    assert result.changes.lines() == [
        '+ category money: "Финансы"',
        '~ category chats: title: "Чаты" -> "Чаты и рассылки"',
        '+ topic chats/billing: "Оплата"',
        '+ topic money/billing: "Оплата"',
        '- topic chats/chat-problem: "Проблема с чатами"',
        '~ topic chats/other: title: "Иное" -> "Другое"',
        '~ topic chats/other: priority: "low" -> "normal"',
    ]
    assert result.changes.lines("ru") == [
        '+ категория money: "Финансы"',
        '~ категория chats: название: "Чаты" -> "Чаты и рассылки"',
        '+ тема chats/billing: "Оплата"',
        '+ тема money/billing: "Оплата"',
        '- тема chats/chat-problem: "Проблема с чатами"',
        '~ тема chats/other: название: "Иное" -> "Другое"',
        '~ тема chats/other: приоритет: "low" -> "normal"',
    ]


def test_form_and_field_changes(mini):
    """Label, help, pattern, required, options and the order of the fields, each with its values."""
    diff = changed(mini, {
        "forms/fields.yaml": """
            fields:
              account_id:
                label: Номер лицевого счёта
                pattern: '^\\d{1,12}$'
                help: В правом верхнем углу.
            """,
        "forms/chat-problem.yaml": """
            id: chat-problem
            extends: default
            fields:
              - id: channel
                label: Канал
                type: select
                required: true
                options: [Telegram, WhatsApp, VK]
              - use: account_id
                required: false
            """,
    })
    order = '"account_id", "channel", "subject", "message", "attachments" -> "channel", "account_id", "subject", "message", "attachments"'
    assert diff.lines() == [
        f"~ form chat-problem: field order: {order}",
        '~ field chat-problem/account_id: label: "Номер ЛК" -> "Номер лицевого счёта"',
        '~ field chat-problem/account_id: help: "В правом верхнем углу личного кабинета." -> "В правом верхнем углу."',
        "~ field chat-problem/account_id: required: yes -> no",
        '~ field chat-problem/account_id: pattern: "^\\d+$" -> "^\\d{1,12}$"',
        "~ field chat-problem/channel: required: no -> yes",
        '~ field chat-problem/channel: options: "Telegram", "WhatsApp" -> "Telegram", "WhatsApp", "VK"',
    ]
    assert diff.lines("ru") == [
        f"~ форма chat-problem: порядок полей: {order}",
        '~ поле chat-problem/account_id: подпись: "Номер ЛК" -> "Номер лицевого счёта"',
        '~ поле chat-problem/account_id: подсказка: "В правом верхнем углу личного кабинета." -> "В правом верхнем углу."',
        "~ поле chat-problem/account_id: обязательное: да -> нет",
        '~ поле chat-problem/account_id: шаблон: "^\\d+$" -> "^\\d{1,12}$"',
        "~ поле chat-problem/channel: обязательное: нет -> да",
        '~ поле chat-problem/channel: варианты: "Telegram", "WhatsApp" -> "Telegram", "WhatsApp", "VK"',
    ]
    assert diff.changed_topics(load_catalog("config")) == ["chats/chat-problem"]


def test_a_text_in_two_languages_shows_the_readers_language_or_every_version(mini):
    """A label written per locale shows in the reader's language; when only another language changed, every
    version is shown so the line never reads "a" -> "a"."""
    mini.write("forms/fields.yaml", "fields:\n  account_id:\n    label: {ru: Номер ЛК, en: Account}\n")
    diff = changed(mini, {"forms/fields.yaml": "fields:\n  account_id:\n    label: {ru: Номер ЛК, en: Account number}\n"})
    assert diff.lines() == ['~ field chat-problem/account_id: label: "Account" -> "Account number"']
    assert diff.lines("ru") == ['~ поле chat-problem/account_id: подпись: ru: "Номер ЛК", en: "Account" -> ru: "Номер ЛК", en: "Account number"']


def test_texts_notification_types_policies_and_channels(mini):
    diff = changed(mini, {
        "ui/ru.yaml": "locale: ru\nweb:\n  app_title: Поддержка\n",
        "notifications/types.yaml": """
            types:
              low_balance:
                title: Баланс на исходе
                source: event
                params: {balance: number}
                default_channels: [telegram]
                templates:
                  telegram: "Баланс: {{ balance }} ₽"
              outage:
                title: Авария
                source: event
                default_channels: [telegram]
                templates:
                  telegram: "Авария"
            """,
        "notifications/channels.yaml": """
            channels:
              notify_bot: {kind: telegram, token_env: ALERTS_BOT_TOKEN, notifications: [low_balance]}
              web: {kind: web}
            """,
        "policies.yaml": "policies:\n  auto_close: {after: 3d, reminder_before: 1d}\n",
    })
    assert diff.lines() == [
        '~ text ru:web.app_title: "Портал поддержки" -> "Поддержка"',
        '+ notification outage: "Авария"',
        '~ notification low_balance: title: "Низкий баланс" -> "Баланс на исходе"',
        '~ notification low_balance: templates.telegram: "Баланс {{ balance }}" -> "Баланс: {{ balance }} ₽"',
        '~ policy auto_close.after: "2d" -> "3d"',
        '~ channel notify_bot: token_env: "NOTIFY_BOT_TOKEN" -> "ALERTS_BOT_TOKEN"',
    ]
    assert diff.lines("ru") == [
        '~ текст ru:web.app_title: "Портал поддержки" -> "Поддержка"',
        '+ уведомление outage: "Авария"',
        '~ уведомление low_balance: название: "Низкий баланс" -> "Баланс на исходе"',
        '~ уведомление low_balance: templates.telegram: "Баланс {{ balance }}" -> "Баланс: {{ balance }} ₽"',
        '~ политика auto_close.after: "2d" -> "3d"',
        '~ канал notify_bot: token_env: "NOTIFY_BOT_TOKEN" -> "ALERTS_BOT_TOKEN"',
    ]
    assert diff.changed_topics(load_catalog("config")) == []


def test_against_no_catalog_the_items_it_holds_are_added(mini):
    """The first version lists its categories, topics, forms, notification types and channels (not every field,
    UI text and policy)."""
    assert catalog_diff(None, load_catalog("config")).lines("ru") == [
        '+ категория chats: "Чаты"', '+ тема chats/chat-problem: "Проблема с чатами"', '+ тема chats/other: "Иное"',
        "+ форма chat-problem", "+ форма default", '+ уведомление low_balance: "Низкий баланс"', "+ канал notify_bot",
        "+ канал web"]


def test_a_stored_summary_is_worded_in_russian_ids_and_values_untouched():
    from engine.catalog.messages import translate

    assert translate('+ topic none/list: "text"', "ru") == '+ тема none/list: "text"'
    assert translate("first version: 12 files", "ru") == "первая версия: файлов 12"
    assert translate("~ forms/chat-problem.yaml", "ru") == "~ forms/chat-problem.yaml"


TEAMS = """
    teams:
      support:
        title: Поддержка
        members: [a@example.com, b@example.com]
        notify: {email: support@example.com}
      old:
        title: Старая
        members: [a@example.com]
    routing:
      - team: support
        category: chats
    default: support
    """


def test_teams_members_routing_rules_and_the_default_team(mini):
    """A team added or removed with its title and members; a renamed team, a changed notify address, members added
    and removed; routing rules by position (an added one with its conditions), and the default team, each old and new."""
    mini.write("teams.yaml", TEAMS)
    diff = changed(mini, {"teams.yaml": """
        teams:
          support:
            title: Поддержка клиентов
            members: [b@example.com, c@example.com]
            notify: {email: help@example.com}
          night:
            title: Ночная смена
            members: [c@example.com]
        routing:
          - team: night
            category: chats
            priority: urgent
            fields: {account_id: "1"}
          - team: support
            category: chats
        default: night
        """})
    assert diff.lines() == [
        '+ team night: "Ночная смена"',
        '- team old: "Старая"',
        '~ team support: title: "Поддержка" -> "Поддержка клиентов"',
        '~ team support: notify.email: "support@example.com" -> "help@example.com"',
        "+ member night/c@example.com",
        "+ member support/c@example.com",
        "- member old/a@example.com",
        "- member support/a@example.com",
        '+ routing #2: team: "support", category: "chats"',
        '~ routing #1: team: "support" -> "night"',
        '~ routing #1: priority: — -> "urgent"',
        '~ routing #1: fields.account_id: — -> "1"',
        '~ routing default: "support" -> "night"',
    ]
    assert diff.lines("ru") == [
        '+ команда night: "Ночная смена"',
        '- команда old: "Старая"',
        '~ команда support: название: "Поддержка" -> "Поддержка клиентов"',
        '~ команда support: notify.email: "support@example.com" -> "help@example.com"',
        "+ участник night/c@example.com",
        "+ участник support/c@example.com",
        "- участник old/a@example.com",
        "- участник support/a@example.com",
        '+ маршрутизация #2: team: "support", category: "chats"',
        '~ маршрутизация #1: команда: "support" -> "night"',
        '~ маршрутизация #1: приоритет: — -> "urgent"',
        '~ маршрутизация #1: fields.account_id: — -> "1"',
        '~ маршрутизация default: "support" -> "night"',
    ]
    assert diff.changed_topics(load_catalog("config")) == []
    first = catalog_diff(None, load_catalog("config"))  # a first version lists the teams
    assert [c.line() for c in first.of("team")] == ['+ team night: "Ночная смена"', '+ team support: "Поддержка клиентов"']


def test_sla_calendar_holidays_targets_topic_overrides_and_warning(mini):
    """Hours per weekday, the time zone, each holiday added or removed, targets per priority and per topic, and
    warn_before; an added or removed setting shows its value."""
    mini.write("sla.yaml", """
        calendar: msk
        warn_before: 1h
        calendars:
          msk:
            time_zone: Europe/Moscow
            hours: {mon: "09:00-18:00", tue: "09:00-18:00"}
            holidays: ["2027-01-01", "2027-01-04"]
        targets:
          urgent: {first_response: 30m, resolution: 4h}
          normal: {first_response: 4h}
        topics:
          chats/other:
            targets:
              urgent: {first_response: 15m}
        """)
    diff = changed(mini, {"sla.yaml": """
        calendar: msk
        warn_before: 30m
        calendars:
          msk:
            time_zone: Europe/Samara
            hours: {mon: ["09:00-13:00", "14:00-18:00"], wed: "09:00-18:00"}
            holidays: ["2027-01-01", "2027-01-05"]
        targets:
          urgent: {first_response: 1h, resolution: 4h}
          normal: {first_response: 4h, resolution: 27h}
        topics:
          chats:
            targets:
              urgent: {first_response: 20m}
        """})
    assert diff.lines() == [
        "+ sla calendars.msk.holidays.2027-01-05",
        '+ sla calendars.msk.hours.wed: "09:00-18:00"',
        '+ sla targets.normal.resolution: "27h"',
        '+ sla topics.chats.targets.urgent.first_response: "20m"',
        "- sla calendars.msk.holidays.2027-01-04",
        '- sla calendars.msk.hours.tue: "09:00-18:00"',
        '- sla topics.chats/other.targets.urgent.first_response: "15m"',
        '~ sla calendars.msk.hours.mon: "09:00-18:00" -> "09:00-13:00, 14:00-18:00"',
        '~ sla calendars.msk.time_zone: "Europe/Moscow" -> "Europe/Samara"',
        '~ sla targets.urgent.first_response: "30m" -> "1h"',
        '~ sla warn_before: "1h" -> "30m"',
    ]
    assert diff.lines("ru")[:2] == ["+ SLA calendars.msk.holidays.2027-01-05", '+ SLA calendars.msk.hours.wed: "09:00-18:00"']
    assert diff.lines("ru")[-1] == '~ SLA warn_before: "1h" -> "30m"'

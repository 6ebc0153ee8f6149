"""The shipped configuration reproduces seed 004 (Twin): categories, topics, priorities, ID fields and forms."""
from __future__ import annotations

import pytest

from engine.forms import validate_field
from engine.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "config"
PLANETAHOST = PROJECT_ROOT / "examples" / "planetahost"

SEED_CATEGORIES = [
    ("account", "Личный кабинет", 7),
    ("bots", "Бот и сценарии", 7),
    ("telephony", "Телефония и звонки", 12),
    ("chats", "Чаты и рассылки", 10),
    ("reports", "Отчеты и аналитика", 5),
    ("integrations", "Интеграции и API", 6),
    ("operator-panel", "Панель оператора", 4),
    ("finance", "Финансовые вопросы", 4),
    ("resellers", "Франшизы, Реселлеры, WhiteLabel", 4),
    ("twin", "TWIN", 11),
    ("globaltelecom", "ГлобалТелеком", 8),
]
# The seed's ID fields, each with the menu path its help text must name.
SEED_ID_FIELDS = {
    "scenario_id": "Сценарии → Сценарии",
    "report_id": "Статистика → Отчёты",
    "call_id": "Вызовы → Детализация",
    "dialog_id": "Просмотреть диалоги",
    "dialing_task_id": "Вызовы → Задания на обзвон",
    "chat_id": "Чаты → Настройки",
    "company_id": "рядом с названием компании",
    "reseller_company_id": "рядом с названием компании",
    "account_id": "рядом с названием личного кабинета",
}
SEED_MISSPELLINGS = ["фунционал", "не подходит не один", "испгользования", "нераспознаный", "бесперерывн", "не логично", "формируется не верно"]


def test_the_eleven_categories_in_the_seeds_order(twin):
    assert [(c.id, c.title, len(c.topics)) for c in twin.categories] == SEED_CATEGORIES


def test_every_topic_has_a_title_and_a_description(twin):
    assert all(t.title and t.description for t in twin.all_topics())


@pytest.mark.parametrize(("title", "priority"), [("Иное", "low"), ("Инцидент", "urgent")])
def test_priority_hints(twin, title, priority):
    """Иное is handled later, Инцидент (a mass outage) first, wherever they appear."""
    topics = [t for t in twin.all_topics() if t.title == title]
    assert topics and {t.priority for t in topics} == {priority}


def test_the_seeds_misspellings_are_fixed():
    texts = [p.read_text(encoding="utf-8") for p in sorted(SHIPPED.rglob("*.yaml"))]
    assert [word for word in SEED_MISSPELLINGS if any(word in text for text in texts)] == []


@pytest.mark.parametrize(("field_id", "where"), sorted(SEED_ID_FIELDS.items()))
def test_every_id_field_says_where_to_find_it(twin, field_id, where):
    """Each ID field of the seed's instruction table is used by some form and its help names the place."""
    fields = [f for form in twin.forms.values() for f in form.fields if f.id == field_id]
    assert fields, f"no form asks for {field_id}"
    assert any(where in (f.help or "") for f in fields)


def test_chat_problem_form_has_the_seeds_seven_fields_in_order(twin):
    """Номер ЛК, chat, dialog, channel (+ which channel when Другое), summary, description, attachments."""
    form = twin.forms[twin.topic("chats/chat-problem").form_id]
    assert [f.id for f in form.fields] == [
        "account_id", "chat_id", "dialog_id", "channel", "channel_other", "subject", "message", "attachments",
    ]
    assert [f.label for f in form.fields][:4] == [
        "Номер ЛК", "Идентификатор чата, в котором происходил диалог", "Идентификатор диалога",
        "Канал коммуникации, в котором возникла проблема",
    ]
    other = form.field("channel_other")
    assert not other.is_visible({"channel": "Telegram"}) and other.is_visible({"channel": "Другое"})


@pytest.mark.parametrize(
    ("topic", "field_id"),
    [
        ("telephony/telephony-problem", "call_id"),
        ("twin/telephony-problem", "call_id"),
        ("globaltelecom/telephony-error", "call_id"),
        ("reports/report-export", "report_id"),
        ("reports/report-data", "report_id"),
        ("account/report-export", "report_id"),
        ("bots/editor-problem", "scenario_id"),
        ("bots/bot-error", "scenario_id"),
        ("bots/copy-scenario", "target_account_id"),
        ("telephony/bot-error", "call_id"),
        ("chats/bot-error", "dialog_id"),
        ("resellers/sub-balance", "reseller_company_id"),
        ("resellers/whitelabel", "domain"),
        ("finance/lost-payment", "payment_date"),
        ("chats/sms-sender-register", "sender_name"),
        ("chats/whatsapp-register", "whatsapp_number"),
        ("telephony/caller-id-disable", "caller_id_number"),
    ],
)
def test_topic_forms_ask_for_the_id_support_needs(twin, topic, field_id):
    assert twin.form_for(twin.topic(topic)).field(field_id) is not None


def test_every_form_ends_with_the_common_fields_and_every_field_type_is_used(twin):
    types = set()
    for form in twin.forms.values():
        assert [f.id for f in form.fields][-3:] == ["subject", "message", "attachments"], form.id
        types |= {f.type for f in form.fields}
    assert types == {"string", "text", "integer", "select", "boolean", "email", "phone", "date", "attachments"}


@pytest.mark.parametrize(
    ("field_id", "value", "valid"),
    [
        ("account_id", "12345", True),
        ("account_id", "ЛК 12345", False),
        ("call_id", "3f2a9c1e-7b4d-4e2a-9f1b-2c3d4e5f6a7b", True),
        ("call_id", "981273", True),
        ("call_id", "звонок вчера", False),
        ("scenario_id", "12 34", False),
        ("sender_name", "MyShop", True),
        ("sender_name", "МойМагазин", False),
        ("domain", "crm.example.com", True),
        ("domain", "https://crm.example.com/", False),
    ],
)
def test_id_patterns_accept_real_ids_and_reject_prose(twin, field_id, value, valid):
    field = next(f for form in twin.forms.values() for f in form.fields if f.id == field_id)
    assert (validate_field(twin, field, value, "ru") is None) == valid


@pytest.mark.parametrize("config", [SHIPPED, PLANETAHOST], ids=["twin", "planetahost"])
def test_every_yaml_file_points_editors_at_its_schema(config):
    """The first line is the yaml-language-server comment naming the schema of the file's kind."""
    kinds = {"categories": "category", "forms": "form", "notifications": None, "ui": "ui", "replies": "canned-reply"}
    schema_dir = SHIPPED / "schema"
    for path in sorted(config.rglob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1]).resolve()
        kind = kinds.get(path.parent.name, "policies")
        if path.name == "fields.yaml":
            kind = "field-library"
        elif path.name == "sla.yaml":
            kind = "sla"
        elif path.parent.name == "notifications":
            kind = {"types.yaml": "notification-types", "channels.yaml": "channels"}[path.name]
        assert target == (schema_dir / f"{kind}.schema.json").resolve(), path


def test_twin_ships_canned_replies(twin):
    """Three Russian canned replies, by title: two on every ticket, the call-ID request on telephony tickets only."""
    assert sorted(twin.replies) == ["greeting", "need-call-id", "resolved"]
    assert [r.id for r in twin.replies_for("telephony", "telephony-problem")] == ["need-call-id", "greeting", "resolved"]
    assert [r.id for r in twin.replies_for("chats", "chat-problem")] == ["greeting", "resolved"]

"""Agent search (engine.ticket_search): numbers, words in their forms, field values, messages and notes, filters,
pages, hostile input; on SQLite (FTS5) and PostgreSQL (tsvector + GIN)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine import notes, tickets
from engine.store.migrations import upgrade
from engine.store.models import Message, SchemaVersion, Ticket
from engine.ticket_search import MAX_QUERY_CHARS, SearchFilters, search_tickets, snippet
from tests.engine.conftest import make_user

pytestmark = pytest.mark.postgres

SITE = {"subject": "Сайт не открывается", "message": "С утра ошибка 502", "account_id": "12345", "panel": "isp",
        "domain": "example.com"}


def create(rt, customer, topic="hosting/site-down", **values):
    fields = {**SITE, **values} if topic == "hosting/site-down" else {"subject": values.get("subject", "Вопрос"),
                                                                       "message": values.get("message", "Текст")}
    return tickets.create_ticket(rt, customer, topic, fields, [], "web")


def numbers(result) -> list[int]:
    assert result.problem is None
    return [hit.ticket.number for hit in result.page.rows]


@pytest.fixture
def world(rt, customer, other_customer, agent):
    """Four tickets of two customers, with replies from both sides and a staff-only note."""
    printer = create(rt, customer, subject="Не печатает принтер в офисе", message="Принтеры HP не отвечают")
    site = create(rt, customer, domain="myshop.ru")
    billing = create(rt, other_customer, topic="hosting/other", subject="Счёт за март",
                     message="Прошу выставить счета на юрлицо")
    tickets.add_reply(rt, site, agent, "Перезапустили веб-сервер, проверьте пожалуйста", [], "web")
    notes.add_note(rt, site, agent, "Клиент грубил, секретный пароль qwerty", "web")
    english = create(rt, other_customer, subject="Invoices are missing", message="The printers stopped working",
                     account_id="777")
    return {"printer": printer, "site": site, "billing": billing, "english": english}


def test_number_subject_message_and_field_values_are_found(world, agent):
    assert numbers(search_tickets(agent, "1002")) == [1002]
    assert numbers(search_tickets(agent, "#1003")) == [1003]
    assert numbers(search_tickets(agent, "сайт")) == [1002]  # the subject
    assert numbers(search_tickets(agent, "веб-сервер")) == [1002]  # a staff reply
    assert numbers(search_tickets(agent, "myshop.ru")) == [1002]  # a field value
    assert sorted(numbers(search_tickets(agent, "12345"))) == [1001, 1002]  # account_id
    assert numbers(search_tickets(agent, "777")) == [1004]


def test_russian_and_english_words_find_their_other_forms(world, agent):
    assert numbers(search_tickets(agent, "принтера")) == [1001]  # «принтер», «Принтеры»
    assert numbers(search_tickets(agent, "СЧЕТ")) == [1003]  # «Счёт», «счета»: case and ё do not matter
    assert numbers(search_tickets(agent, "invoice")) == [1004]
    assert sorted(numbers(search_tickets(agent, "printer"))) == [1004]  # English words in English: «printers»
    assert numbers(search_tickets(agent, "печат")) == [1001]  # a word being typed
    assert numbers(search_tickets(agent, "принтер офис")) == [1001]  # every word, in the ticket's own text


def test_internal_notes_are_found_by_staff_only(world, agent, customer):
    assert numbers(search_tickets(agent, "секретный пароль")) == [1002]
    hit = search_tickets(agent, "секретный").page.rows[0]
    assert ("секретный", True) in hit.snippet
    assert numbers(search_tickets(customer, "секретный")) == []
    assert numbers(search_tickets(customer, "qwerty")) == []
    assert numbers(search_tickets(customer, "сервер")) == [1002]  # the staff reply the customer sees


def test_a_customer_finds_only_their_own_tickets(world, customer, other_customer):
    assert numbers(search_tickets(customer, "счет")) == []
    assert numbers(search_tickets(other_customer, "счет")) == [1003]
    assert sorted(numbers(search_tickets(customer, ""))) == [1001, 1002]


def test_filters_narrow_the_result(rt, world, agent):
    assert sorted(numbers(search_tickets(agent, "", SearchFilters(priorities=("low",))))) == [1003]
    assert sorted(numbers(search_tickets(agent, "", SearchFilters(category_id="hosting", topic_id="site-down")))) == [1001, 1002, 1004]
    tickets.archive_ticket(rt, world["site"], agent)
    assert numbers(search_tickets(agent, "сайт", SearchFilters(statuses=("new", "waiting_support")))) == []
    assert numbers(search_tickets(agent, "сайт", SearchFilters(statuses=("archived",)))) == [1002]
    Ticket.update(created_at=datetime(2026, 1, 10, tzinfo=timezone.utc)).where(Ticket.number == 1001).execute()
    january = SearchFilters(created_from=datetime(2026, 1, 1, tzinfo=timezone.utc),
                            created_before=datetime(2026, 2, 1, tzinfo=timezone.utc))
    assert numbers(search_tickets(agent, "", january)) == [1001]
    assert numbers(search_tickets(agent, "сайт", january)) == []


def test_team_filter_narrows_to_the_chosen_teams(world, agent):
    Ticket.update(team="isp").where(Ticket.number.in_([1001, 1002])).execute()
    Ticket.update(team="billing").where(Ticket.number == 1003).execute()
    assert sorted(numbers(search_tickets(agent, "", SearchFilters(teams=("isp",))))) == [1001, 1002]
    assert sorted(numbers(search_tickets(agent, "", SearchFilters(teams=("isp", "billing"))))) == [1001, 1002, 1003]
    assert numbers(search_tickets(agent, "сайт", SearchFilters(teams=("billing",)))) == []
    assert numbers(search_tickets(agent, "", SearchFilters(teams=()))) == []  # "my teams" of an agent in none
    assert len(numbers(search_tickets(agent, "", SearchFilters(teams=None)))) == 4


def test_assignee_filter_finds_mine_or_unassigned(rt, world, agent):
    colleague = make_user("colleague@example.com", "colleague-password", role="agent")
    tickets.take_ticket(rt, world["printer"], agent)
    tickets.take_ticket(rt, world["billing"], colleague)
    assert numbers(search_tickets(agent, "", SearchFilters(assignee="me"))) == [1001]
    assert numbers(search_tickets(colleague, "", SearchFilters(assignee="me"))) == [1003]
    assert sorted(numbers(search_tickets(agent, "", SearchFilters(assignee="nobody")))) == [1002, 1004]
    assert numbers(search_tickets(agent, "принтер", SearchFilters(assignee="nobody"))) == []


def test_pages_follow_the_newest_update_with_a_total(rt, customer, agent):
    base = datetime(2026, 3, 1, tzinfo=timezone.utc)
    for n in range(5):
        ticket = create(rt, customer, subject=f"Роутер номер {n}")
        Ticket.update(updated_at=base + timedelta(hours=n)).where(Ticket.id == ticket.id).execute()
    first = search_tickets(agent, "роутеры", size=2).page
    assert (first.total, first.first, first.last) == (5, 1, 2)
    second = search_tickets(agent, "роутеры", after=first.next, size=2).page
    third = search_tickets(agent, "роутеры", after=second.next, size=2).page
    seen = [h.ticket.number for h in first.rows + second.rows + third.rows]
    assert seen == [1005, 1004, 1003, 1002, 1001] and third.next is None
    back = search_tickets(agent, "роутеры", before=second.previous, size=2).page
    assert [h.ticket.number for h in back.rows] == [1005, 1004]


HOSTILE = [
    '"', "'", '"принтер', "принтер\"*", "AND OR NOT", "NEAR(принтер офис)", "*", "принтер:*", "subject:принтер",
    "body : x", "\\", "((", "))", "' OR 1=1 --", "'; DROP TABLE ticket; --", "^принтер", "-принтер", "+", "!",
    "a & b | !c", "<->", "принтер <-> офис", "{1}", "\x00", "😀 принтер", "ё", "_", "%", "$1", "?", "::", "NULL",
    "%s %s", "принтер" * 20,
]


@pytest.mark.parametrize("role", ["agent", "customer"])
def test_hostile_queries_never_raise(world, agent, customer, role):
    user = agent if role == "agent" else customer
    for text in HOSTILE:
        result = search_tickets(user, text)
        assert result.problem in (None, "search_no_words"), text
    assert numbers(search_tickets(user, '"принтер" (офис)* -^')) == [1001]  # words only, whatever surrounds them
    assert numbers(search_tickets(user, "принтер OR факс")) == []  # an operator is a word like any other
    assert numbers(search_tickets(user, "NEAR(принтер офис)")) == []  # "near" is no word of any ticket
    assert search_tickets(user, "x" * (MAX_QUERY_CHARS + 1)).problem == "search_too_long"
    assert search_tickets(user, "!!! ??? ***").problem == "search_no_words"
    assert search_tickets(user, None).problem is None
    many = " ".join(["принтер"] * 500)[:MAX_QUERY_CHARS]
    assert numbers(search_tickets(user, many)) == [1001]


def test_the_index_follows_edits_and_deletes(world, agent):
    message = Message.get((Message.ticket == world["printer"]) & (Message.author_kind == "customer"))
    Message.update(body="Сканер зажевал бумагу").where(Message.id == message.id).execute()
    assert numbers(search_tickets(agent, "сканер")) == [1001]
    assert numbers(search_tickets(agent, "hp")) == []
    Ticket.update(subject="Новая тема").where(Ticket.id == world["printer"].id).execute()
    assert numbers(search_tickets(agent, "тема")) == [1001]
    assert numbers(search_tickets(agent, "печатает")) == []
    Ticket.delete().where(Ticket.id == world["printer"].id).execute()
    assert numbers(search_tickets(agent, "сканер")) == []


def test_the_migration_indexes_existing_rows(rt, world, agent):
    """Migration 13 run again over rows written without the index: they are found."""
    db = rt.db
    if rt.settings.database_url:
        db.execute_sql("DROP INDEX ticket_search; DROP INDEX message_search")
    else:
        for name in ("message_fts_insert", "message_fts_delete", "message_fts_update", "ticket_fts_insert",
                     "ticket_fts_delete", "ticket_fts_update"):
            db.execute_sql(f"DROP TRIGGER {name}")
        db.execute_sql("DROP TABLE message_fts")
        db.execute_sql("DROP TABLE ticket_fts")
    SchemaVersion.delete().where(SchemaVersion.version >= 13).execute()  # 14 (search feedback) runs again: idempotent
    late = make_user("late@example.com", "late-password")
    create(rt, late, subject="Почтовый ящик переполнен")
    assert upgrade(db) == [13, 14, 15]
    assert numbers(search_tickets(agent, "ящики")) == [1005]
    assert numbers(search_tickets(agent, "принтер")) == [1001]


def test_snippets_are_parts_around_the_first_hit():
    text = "Начало. " + "слово " * 60 + "Принтер сломался, принтеры не работают. " + "хвост " * 60
    parts = snippet(text, ("принтер",))
    assert parts[0] == ("…", False) and parts[-1][0].endswith("…")
    assert [p for p, hit in parts if hit] == ["Принтер", "принтеры"]
    assert sum(len(p) for p, _ in parts) <= 170
    assert snippet("<b>принтер</b>", ("принтер",)) == (("<b>", False), ("принтер", True), ("</b>", False))

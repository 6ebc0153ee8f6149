"""The agent console's search page (htmx, filters, escaped highlighted snippets, hostile input) and times in the
viewer's time zone on the web pages."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine import notes, tickets
from engine.store.models import Message, Ticket, User
from tests.web.helpers import make_ticket

pytestmark = pytest.mark.postgres


@pytest.fixture
def found(rt, users):
    ticket = make_ticket(rt, users["customer"], subject="Бот <script>alert(1)</script> молчит",
                         message="Бот не отвечает <b>утром</b>")
    notes.add_note(rt, ticket, users["agent"], "Проверить вебхук бота", "web")
    return ticket


def test_search_page_shows_escaped_highlighted_snippets(as_role, found):
    agent = as_role("agent")
    page = agent.get("/agent/search?q=ботом").get_data(as_text=True)
    assert f'href="/agent/tickets/{found.number}"' in page
    assert "<mark>Бот</mark>" in page and "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "Показано 1–1 из 1" in page
    fragment = agent.get("/agent/search?q=вебхук", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert not fragment.lstrip().startswith("<!doctype") and "<mark>вебхук</mark>" in fragment
    assert "утром" in agent.get("/agent/search?q=отвечает").get_data(as_text=True)
    assert "&lt;b&gt;" in agent.get("/agent/search?q=утро").get_data(as_text=True)


def test_search_filters_and_refusals(as_role, found):
    agent = as_role("agent")
    assert f"#{found.number}" in agent.get("/agent/search?q=бот&status=open&priority=normal&category=chats&topic=chat-problem").get_data(as_text=True)
    assert f"#{found.number}" not in agent.get("/agent/search?q=бот&status=archived").get_data(as_text=True)
    assert f"#{found.number}" not in agent.get("/agent/search?q=бот&from=2000-01-01&to=2000-01-31").get_data(as_text=True)
    assert "Дата указана неверно" in agent.get("/agent/search?q=бот&from=31.12.2026").get_data(as_text=True)
    assert "Слишком длинный запрос" in agent.get("/agent/search?q=" + "а" * 201).get_data(as_text=True)
    assert "нет ни слов, ни цифр" in agent.get("/agent/search?q=%22%27*()").get_data(as_text=True)
    for bad in ("status=nope", "priority=x", "category=nope", "topic=x"):
        assert agent.get(f"/agent/search?q=бот&{bad}").status_code == 400
    for hostile in ('"бот" OR 1=1', "NEAR(бот)", "бот*", "\\", "'", "бот:*", "-бот"):
        assert agent.get("/agent/search", query_string={"q": hostile}).status_code == 200


def test_search_filters_by_team_and_assignee_like_the_queue(rt, as_role, users, found):
    sms = make_ticket(rt, users["customer"], channel="SMS", subject="СМС бот молчит")  # routed to telephony
    tickets.take_ticket(rt, sms, users["agent"])
    agent = as_role("agent")
    page = agent.get("/agent/search?q=бот").get_data(as_text=True)
    assert '<option value="all" selected>Все команды</option>' in page and "Назначены мне" in page
    assert f"#{found.number}" in page and f"#{sms.number}" in page  # a search looks in every team first

    def shown(query):
        return {n for n in (found.number, sms.number) if f"#{n}" in agent.get(f"/agent/search?q=бот&{query}").get_data(as_text=True)}

    assert shown("team=telephony") == {sms.number} and shown("team=general") == {found.number}
    assert shown("team=mine") == {found.number, sms.number}  # the agent is in both shipped teams
    assert shown("assignee=me") == {sms.number} and shown("assignee=nobody") == {found.number}
    for bad in ("team=nope", "assignee=everyone"):
        assert agent.get(f"/agent/search?q=бот&{bad}").status_code == 400


def test_search_is_staff_only(as_role, found):
    assert as_role("customer").get("/agent/search?q=бот").status_code == 404


def test_times_are_shown_in_the_viewers_zone_with_its_name(rt, as_role, users, found):
    Message.update(created_at=datetime(2026, 7, 1, 11, 5, tzinfo=timezone.utc)).where(Message.ticket == found).execute()
    Ticket.update(created_at=datetime(2026, 7, 1, 11, 5, tzinfo=timezone.utc)).where(Ticket.id == found.id).execute()
    customer = as_role("customer")
    page = customer.get(f"/tickets/{found.number}").get_data(as_text=True)
    assert "01.07.2026 14:05 МСК" in page  # policies.time_zone of the shipped config: Europe/Moscow
    response = customer.post("/settings", {"time_zone": "Asia/Yekaterinburg"})
    assert response.status_code == 303 and User.get_by_id(users["customer"].id).time_zone == "Asia/Yekaterinburg"
    assert "01.07.2026 16:05 (UTC+5)" in customer.get(f"/tickets/{found.number}").get_data(as_text=True)
    assert customer.post("/settings", {"time_zone": "Mars/Olympus"}).status_code == 422
    agent = as_role("agent")
    agent.post("/settings", {"time_zone": "Europe/Berlin"})
    assert "01.07.2026 13:05 CEST" in agent.get(f"/agent/tickets/{found.number}").get_data(as_text=True)
    settings = agent.get("/settings").get_data(as_text=True)
    assert '<option value="Europe/Berlin" selected>' in settings
    agent.post("/settings", {"time_zone": ""})
    assert User.get_by_id(users["agent"].id).time_zone is None

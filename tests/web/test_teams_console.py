"""The agent console with the shipped teams (config/teams.yaml): queue filters, the assignment card (htmx, CSRF) with
the ticket's history, a lost take race, and the staff notification settings."""
from __future__ import annotations

import html

import pytest

from engine import accounts, tickets
from engine.store.models import NotificationPreference, Ticket
from tests.web.conftest import PASSWORD, WebClient
from tests.web.helpers import make_ticket


@pytest.fixture
def routed(rt, users):
    """A general-support ticket (a Telegram chat) and a telephony one (an SMS chat)."""
    return make_ticket(rt, users["customer"]), make_ticket(rt, users["customer"], channel="SMS", subject="СМС не уходят")


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_queue_defaults_to_my_teams_and_filters_by_team_and_assignee(rt, as_role, users, routed):
    general, telephony = routed
    assert (general.team, telephony.team) == ("general", "telephony")
    agent = as_role("agent")
    page = _text(agent.get("/agent/"))
    assert '<option value="mine" selected>' in page and "Бот молчит" in page and "СМС не уходят" in page
    only = _text(agent.get("/agent/?team=telephony", headers={"HX-Request": "true"}))
    assert "СМС не уходят" in only and "Бот молчит" not in only
    tickets.take_ticket(rt, telephony, users["agent"])
    mine = _text(agent.get("/agent/?assignee=me"))
    assert "СМС не уходят" in mine and "Бот молчит" not in mine and "Агент" in mine
    nobody = _text(agent.get("/agent/?assignee=nobody"))
    assert "Бот молчит" in nobody and "СМС не уходят" not in nobody
    for bad in ("team=nope", "assignee=everyone", "team=mine&assignee=1"):
        assert agent.get(f"/agent/?{bad}").status_code == 400


def test_assignment_card_assigns_moves_and_shows_the_history(rt, as_role, users, routed):
    general, _ = routed
    agent = as_role("agent")
    page = _text(agent.get(f"/agent/tickets/{general.number}"))
    assert 'id="assignment"' in page and 'hx-post="/agent/tickets/%d/assignee"' % general.number in page
    assert agent.post(f"/agent/tickets/{general.number}/assignee", {"assignee": str(users["admin"].id)}, htmx=True,
                      csrf=False).status_code == 400  # no CSRF token: refused
    card = _text(agent.post(f"/agent/tickets/{general.number}/assignee", {"assignee": str(users["admin"].id)}, htmx=True))
    assert '<section class="card" id="assignment"' in card and "<html" not in card  # the card alone, for hx-swap
    assert f'<option value="{users["admin"].id}" selected>Админ</option>' in card
    assert "Исполнитель: — → Админ" in card
    refused = agent.post(f"/agent/tickets/{general.number}/assignee", {"assignee": str(users["customer"].id)}, htmx=True)
    assert refused.status_code == 400  # a customer is nobody's colleague
    moved = _text(agent.post(f"/agent/tickets/{general.number}/team", {"team": "telephony"}, htmx=True))
    assert "Команда: Общая поддержка → Телефония" in moved and "Исполнитель: Админ → —" in moved  # admin is not in telephony
    assert Ticket.get_by_id(general.id).team == "telephony"
    assert agent.post(f"/agent/tickets/{general.number}/team", {"team": "nope"}, htmx=True).status_code == 400


def test_a_take_lost_to_a_colleague_says_who_has_it(rt, as_role, users, routed):
    general, _ = routed
    tickets.take_ticket(rt, general, users["admin"])
    response = as_role("agent").post(f"/agent/tickets/{general.number}/take")
    assert response.status_code == 409
    assert rt.catalog.text("ru", "validation", "ticket_taken_by", name="Админ") in _text(response)


def test_agents_choose_channels_for_staff_notifications_customers_never_see_them(rt, as_role, users):
    agent = as_role("agent")
    page = _text(agent.get("/settings"))
    assert "Новый запрос в моей команде" in page and "Клиент ответил в моем запросе" in page
    assert rt.catalog.text("ru", "web", "settings_staff_hint") in page
    assert agent.post("/settings", {"pref:customer_replied:email": "on"}).status_code == 303
    chosen = {(p.type_id, p.channel, p.enabled) for p in NotificationPreference.select().where(NotificationPreference.user == users["agent"])}
    assert ("customer_replied", "email", True) in chosen and ("team_ticket_created", "email", False) in chosen
    customer_page = _text(as_role("customer").get("/settings"))
    assert "Уведомление о низком балансе" in customer_page and "Новый запрос в моей команде" not in customer_page


def test_a_team_member_created_later_gets_the_team_queue(rt, app, users, routed):
    accounts.create_user("new@example.com", PASSWORD, role="agent", name="Новый")
    assert not rt.catalog.teams_of("new@example.com")  # not a member: the queue shows all teams by default
    web = WebClient(app.test_client())
    web.login("new@example.com")
    assert '<option value="all" selected>' in _text(web.get("/agent/"))


def test_the_admin_page_warns_of_members_without_an_agent_account(rt, as_role, users):
    admin = as_role("admin")
    assert "teams.telephony.members" not in _text(admin.get("/admin/"))
    accounts.set_role(users["agent"], "customer")
    page = _text(admin.get("/admin/"))
    assert "teams.telephony.members: у 'agent@example.com' нет действующей учетной записи сотрудника" in page

"""Teams at run time: routing on creation, take/assign/move with history, agent notifications through the outbox,
queue filters with keyset pages, and a live reload changing the teams."""
from __future__ import annotations

import dataclasses
import threading

import pytest

from engine import delivery, staff_notifications, teams, tickets
from engine.errors import TransitionRefused, ValidationFailed
from engine.senders import register_sender, sender_for
from engine.store.models import AuditLog, Delivery, Notification, Ticket, User
from tests.engine.conftest import make_user

pytestmark = pytest.mark.postgres

SITE = {"subject": "Сайт не открывается", "message": "С утра 502", "account_id": "12345", "panel": "ISPmanager"}
TEAMS = """
teams:
  isp:
    title: {ru: Панель ISP, en: ISP panel}
    members: [agent@example.com, anna@example.com, ghost@example.com]
    notify: {email: isp-team@example.com, telegram: "-100500"}
  hosting:
    title: Хостинг
    members: [ivan@example.com]
routing:
  - team: isp
    topic: hosting/site-down
    fields: {panel: isp}
  - team: hosting
    category: hosting
    priority: [urgent, normal]
default: hosting
"""
STAFF_TYPES = """
  team_ticket_created:
    title: Новый запрос в команде
    source: staff
    params: {ticket_number: integer, team: string, message: string}
    default_channels: [web, email]
    templates:
      web: "Новый #{{ ticket_number }} в «{{ team }}»"
      email: {subject: "Новый #{{ ticket_number }}", body: "{{ message }} {{ ticket_url }}"}
  customer_replied:
    title: Клиент ответил
    source: staff
    params: {ticket_number: integer, reply: string}
    default_channels: [web, email]
    templates:
      web: "Ответ в #{{ ticket_number }}"
      email: {subject: "Ответ в #{{ ticket_number }}", body: "{{ reply }}"}
"""


@pytest.fixture
def settings(settings):
    """Email configured (its sender is replaced where a test sends), so deliveries are attempted, not skipped."""
    return dataclasses.replace(settings, env={"SMTP_URL": "smtp://127.0.0.1:9"})


@pytest.fixture
def teamed(rt, config_dir):
    """The domain config plus teams.yaml and the staff notification types, reloaded live."""
    (config_dir / "teams.yaml").write_text(TEAMS, encoding="utf-8")
    types = config_dir / "notifications" / "types.yaml"
    types.write_text(types.read_text(encoding="utf-8") + STAFF_TYPES, encoding="utf-8")
    assert rt.catalogs.reload()
    return rt


@pytest.fixture
def anna(rt):
    return make_user("anna@example.com", "anna-password", role="agent", name="Анна")


@pytest.fixture
def ivan(rt):
    return make_user("ivan@example.com", "ivan-password", role="agent", name="Иван")


def create(rt, customer, topic="hosting/site-down", values=None):
    return tickets.create_ticket(rt, customer, topic, dict(values or SITE), [], "web")


def staff_outbox(ticket, type_id):
    """(user email, in_app, delivery targets) of a staff type's notifications about the ticket."""
    rows = Notification.select().where((Notification.ticket == ticket) & (Notification.type_id == type_id)).order_by(Notification.id)
    return sorted((n.user.email, n.in_app, sorted(d.target for d in n.deliveries)) for n in rows)


def test_routing_on_creation_notifies_the_team_and_its_addresses_once(teamed, customer, agent, anna, ivan):
    isp = create(teamed, customer)
    assert isp.team == "isp" and isp.assignee_id is None
    assert staff_outbox(isp, "team_ticket_created") == [  # ghost@ has no account: skipped
        ("agent@example.com", True, ["agent@example.com"]),
        ("anna@example.com", True, ["anna@example.com"]),
        ("isp@team.invalid", False, ["isp-team@example.com", "notify_bot:-100500"]),  # the team's addresses, no in-app row
    ]
    assert create(teamed, customer, values={**SITE, "panel": "cpanel"}).team == "hosting"  # field value differs
    assert create(teamed, customer, topic="hosting/other", values={"subject": "x", "message": "y"}).team == "hosting"  # default


def test_staff_notifications_are_delivered_once_with_the_console_link(teamed, customer, agent):
    ticket = create(teamed, customer)
    sent = []
    original = sender_for("email")
    register_sender("email", lambda rt, outgoing: sent.append(outgoing))
    try:
        rows = list(Delivery.select().where(Delivery.channel == "email").order_by(Delivery.id))
        outcomes = [delivery.process(teamed, row.id) for row in rows] + [delivery.process(teamed, row.id) for row in rows]
    finally:
        register_sender("email", original)
    assert outcomes.count("sent") == len(rows) and outcomes[len(rows):] == ["skipped"] * len(rows)  # once each
    addressed = {o.address: o for o in sent}
    assert set(addressed) == {"customer@example.com", "agent@example.com", "isp-team@example.com"}
    assert f"/agent/tickets/{ticket.number}" in addressed["isp-team@example.com"].text


def test_two_agents_taking_at_once_one_wins_the_other_is_told_who(teamed, customer, agent, anna):
    ticket = create(teamed, customer)
    barrier, results = threading.Barrier(2), {}

    def take(user):
        barrier.wait()
        try:
            tickets.take_ticket(teamed, Ticket.get_by_id(ticket.id), user)
            results[user.email] = "won"
        except TransitionRefused as exc:
            results[user.email] = str(exc)
        finally:
            teamed.db.close()

    threads = [threading.Thread(target=take, args=(user,)) for user in (agent, anna)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winner = next(email for email, outcome in results.items() if outcome == "won")
    loser = next(email for email in results if email != winner)
    name = {"agent@example.com": "Агент", "anna@example.com": "Анна"}[winner]
    assert results[loser] == teamed.catalog.text("ru", "validation", "ticket_taken_by", name=name)
    fresh = Ticket.get_by_id(ticket.id)
    assert (fresh.status, fresh.assignee.email) == ("waiting_support", winner)


def test_assign_within_the_team_unassign_and_history(teamed, customer, agent, anna, ivan):
    ticket = create(teamed, customer)
    with pytest.raises(ValidationFailed):
        tickets.assign_ticket(teamed, ticket, agent, ivan)  # not in the ticket's team
    tickets.assign_ticket(teamed, ticket, agent, anna)
    assert ticket.assignee_id == anna.id and ticket.status == "new"  # assigning is no take: the status stays
    with pytest.raises(TransitionRefused):
        tickets.take_ticket(teamed, ticket, agent)
    tickets.assign_ticket(teamed, ticket, agent, None)
    tickets.take_ticket(teamed, ticket, agent)
    history = [(e.actor, e.kind, e.old, e.new) for e in tickets.ticket_history(ticket)]
    assert history == [
        ("Клиент", "status", None, "new"),
        ("Агент", "assignee", None, "Анна"),
        ("Агент", "assignee", "Анна", None),
        ("Агент", "status", "new", "waiting_support"),
        ("Агент", "assignee", None, "Агент"),
    ]
    assert [a.action for a in AuditLog.select().where(AuditLog.action != "config_reload").order_by(AuditLog.id)] == ["assign"] * 3


def test_moving_to_another_team_unassigns_a_non_member_and_tells_the_new_team(teamed, customer, agent, anna, ivan):
    ticket = create(teamed, customer)
    tickets.take_ticket(teamed, ticket, anna)
    tickets.move_ticket(teamed, ticket, agent, "hosting")
    assert (ticket.team, ticket.assignee_id) == ("hosting", None)
    moved = [n for n in Notification.select().where(Notification.type_id == "team_ticket_created") if n.user_id == ivan.id]
    assert len(moved) == 1 and moved[0].params["team"] == "Хостинг"
    tickets.move_ticket(teamed, ticket, ivan, "isp")  # back: the isp members hear of it again, not the mover
    isp_news = Notification.select().where((Notification.type_id == "team_ticket_created") & (Notification.user == anna))
    assert isp_news.count() == 2
    assert [e.kind for e in tickets.ticket_history(ticket)][-3:] == ["team", "assignee", "team"]


def test_customer_reply_goes_to_the_assignee_else_to_the_team(teamed, customer, agent, anna):
    ticket = create(teamed, customer)
    tickets.add_reply(teamed, ticket, customer, "ещё деталь", [], "web")
    assert [e for e, _, _ in staff_outbox(ticket, "customer_replied")] == ["agent@example.com", "anna@example.com", "isp@team.invalid"]
    tickets.take_ticket(teamed, ticket, anna)
    tickets.add_reply(teamed, ticket, customer, "и ещё", [], "web")
    latest = Notification.select().where(Notification.type_id == "customer_replied").order_by(Notification.id.desc()).get()
    assert (latest.user_id, latest.params) == (anna.id, {"ticket_number": ticket.number, "reply": "и ещё"})
    assert Notification.select().where(Notification.type_id == "customer_replied").count() == 4
    with pytest.raises(Exception):  # the same cause again: the idempotency key refuses a second row
        with teamed.db.atomic():
            staff_notifications.customer_replied(teamed.catalog, Ticket.get_by_id(ticket.id), tickets.ticket_messages(ticket)[-1], [])


def test_queue_filters_walk_every_page(teamed, customer, agent, anna, ivan):
    made = [create(teamed, customer, values={**SITE, "panel": "isp" if i % 3 else "cpanel"}) for i in range(9)]
    for ticket in made[:4]:
        tickets.take_ticket(teamed, ticket, ivan if ticket.team == "hosting" else anna)

    def walk(user, **filters):
        seen, cursor = [], None
        while True:
            page = tickets.staff_ticket_page(user, after=cursor, size=2, **filters)
            seen += [t.id for t in page.rows]
            if not page.next:
                return seen, page.total
            cursor = page.next

    def expect(rows):  # one priority (the topic's): oldest update first
        return [t.id for t in sorted(rows, key=lambda t: (t.updated_at, t.id))], len(rows)

    fresh = [Ticket.get_by_id(t.id) for t in made]
    mine = teams.team_ids_of(teamed.catalog, agent)
    assert mine == ("isp",)
    assert walk(agent, teams=mine) == expect([t for t in fresh if t.team == "isp"])
    assert walk(anna, teams=("isp", "hosting"), assignee="me") == expect([t for t in fresh if t.assignee_id == anna.id])
    assert walk(agent, assignee="nobody") == expect([t for t in fresh if t.assignee_id is None])
    assert walk(agent, teams=("hosting",), assignee="nobody") == expect([t for t in fresh if t.team == "hosting" and not t.assignee_id])
    assert walk(agent, teams=()) == ([], 0)


def test_a_reload_changes_teams_and_routing_live(teamed, config_dir, customer, agent):
    before = create(teamed, customer)
    (config_dir / "teams.yaml").write_text("teams:\n  web:\n    title: Веб\n    members: [agent@example.com]\ndefault: web\n",
                                           encoding="utf-8")
    assert teamed.catalogs.reload()
    after = create(teamed, customer)
    assert (Ticket.get_by_id(before.id).team, after.team) == ("isp", "web")  # a ticket keeps the team it has
    assert teams.team_ids_of(teamed.catalog, agent) == ("web",)
    assert [t.id for t in tickets.staff_tickets(agent, teams=("isp",))] == [before.id]  # a removed team is still listed
    tickets.move_ticket(teamed, before, agent, "web")
    assert before.team == "web"


def test_members_without_an_agent_account_are_a_warning(teamed, agent, anna, customer):
    User.update(role="customer").where(User.id == anna.id).execute()
    found = [(w.line, w.path, w.message.split("'")[1]) for w in teams.unknown_members(teamed.catalog, "config")]
    assert found == [(5, "teams.isp.members", "anna@example.com"), (5, "teams.isp.members", "ghost@example.com"),
                     (9, "teams.hosting.members", "ivan@example.com")]


def test_assignee_choices_are_the_members_or_every_staff_account(teamed, agent, anna, ivan, customer):
    def shown(users):
        return [(u.id, u.name, u.email) for u in users]
    for team in ("isp", "hosting", None, "dropped"):
        whole = teams.members(teamed.catalog, team) if team in teamed.catalog.teams else teams.staff_accounts()
        assert shown(teams.assignee_choices(teamed.catalog, team)) == shown(whole) != []

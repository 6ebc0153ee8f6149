"""Customer and agent ticket flows through the web: create, idempotency, reply, archive, files, notifications."""
from __future__ import annotations

import io
import re

import pytest

from engine.store.models import Notification, Ticket
from tests.web.helpers import PNG, TOPIC_URL, chat_problem, make_ticket

pytestmark = pytest.mark.postgres  # idempotent create, ownership and status moves: run on both databases
IDEM = "k" * 24


def submit(client, files=(), **values):
    data = {**chat_problem(**values), "_idem": values.pop("_idem", IDEM)}
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(TOPIC_URL, data, content_type="multipart/form-data")


def test_submit_creates_the_ticket_and_lands_on_it(as_role, users):
    client = as_role("customer")
    response = submit(client, files=[("shot.png", PNG), ("log.txt", b"line 1\n")])
    assert response.status_code == 303
    ticket = Ticket.get(Ticket.customer == users["customer"])
    assert response.headers["Location"] == f"/tickets/{ticket.number}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Номер ЛК" in page and "12345" in page  # labels from the snapshot
    assert "shot.png" in page and "log.txt" in page


def test_double_submit_with_the_same_key_makes_one_ticket(as_role, users):
    client = as_role("customer")
    first, second = submit(client), submit(client)
    assert first.headers["Location"] == second.headers["Location"]
    assert Ticket.select().where(Ticket.customer == users["customer"]).count() == 1


def test_invalid_submission_keeps_values_and_shows_field_errors(as_role, users):
    client = as_role("customer")
    response = submit(client, account_id="12a")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="12a"' in body and 'aria-invalid="true"' in body
    assert re.search(r'<p id="err-account_id" class="field-error" role="alert">[^<]+</p>', body)
    assert Ticket.select().count() == 0


def test_a_sixth_file_is_a_field_error_and_no_ticket(as_role):
    client = as_role("customer")
    response = submit(client, files=[(f"f{i}.png", PNG) for i in range(6)])
    assert response.status_code == 422
    assert "Можно прикрепить не больше 5 файлов." in response.get_data(as_text=True)
    assert Ticket.select().count() == 0


def test_lists_show_active_tickets_and_the_archive(rt, as_role, users):
    open_one = make_ticket(rt, users["customer"], subject="Открытый")
    closed = make_ticket(rt, users["customer"], subject="Закрытый")
    client = as_role("customer")
    client.post(f"/tickets/{closed.number}/archive")
    active = client.get("/tickets").get_data(as_text=True)
    archived = client.get("/tickets/archive").get_data(as_text=True)
    assert f"#{open_one.number}" in active and f"#{closed.number}" not in active
    assert f"#{closed.number}" in archived and "В архиве" in archived


def test_agent_reply_reaches_the_customer_with_a_notification(rt, as_role, users):
    ticket = make_ticket(rt, users["customer"])
    agent = as_role("agent")
    response = agent.post(f"/agent/tickets/{ticket.number}/reply",
                          {"message": "Проверьте настройки бота.", "attachments": [(io.BytesIO(PNG), "fix.png")]},
                          content_type="multipart/form-data")
    assert response.status_code == 303
    customer = as_role("customer")
    page = customer.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "Проверьте настройки бота." in page and "fix.png" in page
    assert 'class="counter"' in page  # the header shows an unread notification
    notes = customer.get("/notifications").get_data(as_text=True)
    assert f"#{ticket.number}" in notes
    customer.post("/notifications/read")
    assert Notification.select().where(Notification.read_at.is_null() & (Notification.user == users["customer"])).count() == 0


def test_customer_reply_and_archive(rt, as_role, users):
    ticket = make_ticket(rt, users["customer"])
    client = as_role("customer")
    assert client.post(f"/tickets/{ticket.number}/reply", {"message": "Дополнение"}).status_code == 303
    assert client.post(f"/tickets/{ticket.number}/archive").status_code == 303
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "Дополнение" in page and "reply-message" not in page  # archived: no reply box
    refused = client.post(f"/tickets/{ticket.number}/reply", {"message": "ещё"})
    assert refused.status_code == 409


def test_empty_reply_is_a_field_error(rt, as_role, users):
    ticket = make_ticket(rt, users["customer"])
    response = as_role("customer").post(f"/tickets/{ticket.number}/reply", {"message": "  "})
    assert response.status_code == 422 and "Заполните это поле." in response.get_data(as_text=True)


def test_polling_answers_204_until_a_new_message_arrives(rt, as_role, users):
    ticket = make_ticket(rt, users["customer"])
    client = as_role("customer")
    first = client.get(f"/tickets/{ticket.number}/messages", headers={"HX-Request": "true"})
    last_id = int(re.findall(r'id="m(\d+)"', first.get_data(as_text=True))[-1])
    assert client.get(f"/tickets/{ticket.number}/messages?after={last_id}").status_code == 204
    as_role("agent").post(f"/agent/tickets/{ticket.number}/reply", {"message": "Новый ответ"})
    news = client.get(f"/tickets/{ticket.number}/messages?after={last_id}")
    assert news.status_code == 200 and "Новый ответ" in news.get_data(as_text=True)


def test_agent_queue_sorts_by_priority_and_filters(rt, as_role, users):
    normal = make_ticket(rt, users["customer"], subject="Обычный")
    urgent_topic = rt.catalog.topic("chats/incident")
    form = rt.catalog.form_for(urgent_topic)
    values = {f.id: "1" if f.type == "string" else "Срочно всё упало" for f in form.fields if f.type in ("string", "text")}
    from engine import tickets
    urgent = tickets.create_ticket(rt, users["customer"], "chats/incident", values, [], "web")
    agent = as_role("agent")
    body = agent.get("/agent/").get_data(as_text=True)
    assert body.index(f"#{urgent.number}") < body.index(f"#{normal.number}")
    filtered = agent.get("/agent/?category=chats&topic=incident", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f"#{urgent.number}" in filtered and f"#{normal.number}" not in filtered


def test_agent_changes_priority_takes_and_archives(rt, as_role, users):
    ticket = make_ticket(rt, users["customer"])
    agent = as_role("agent")
    assert agent.post(f"/agent/tickets/{ticket.number}/priority", {"priority": "high"}).status_code == 303
    assert agent.post(f"/agent/tickets/{ticket.number}/take").status_code == 303
    assert agent.post(f"/agent/tickets/{ticket.number}/archive").status_code == 303
    ticket = Ticket.get_by_id(ticket.id)
    assert (ticket.priority, ticket.status, ticket.closed_reason) == ("high", "archived", "staff")


def test_settings_matrix_emails_and_telegram_username(rt, as_role, users):
    client = as_role("customer")
    page = client.get("/settings").get_data(as_text=True)
    assert 'name="pref:support_reply:telegram"' in page and "Включить работу с поддержкой" in page
    data = {"pref:support_reply:web": "on", "notify_emails": "team@example.com\n", "telegram_username": "@anna_tg",
            "support_in_telegram": "on"}
    assert client.post("/settings", data).status_code == 303
    user = type(users["customer"]).get_by_id(users["customer"].id)
    assert (user.notify_emails, user.telegram_username, user.support_in_telegram) == (["team@example.com"], "anna_tg", True)
    page = client.get("/settings").get_data(as_text=True)
    assert re.search(r'name="pref:support_reply:web"[^>]*checked', page)
    assert not re.search(r'name="pref:support_reply:email"[^>]*checked', page)


def test_bad_extra_email_is_a_field_error_and_nothing_is_saved(as_role, users):
    client = as_role("customer")
    response = client.post("/settings", {"notify_emails": "not-an-email", "telegram_username": "anna_tg"})
    assert response.status_code == 422 and 'id="err-notify-emails"' in response.get_data(as_text=True)
    assert type(users["customer"]).get_by_id(users["customer"].id).telegram_username is None


def test_telegram_link_is_a_one_time_deep_link_with_a_qr_code(as_role):
    client = as_role("customer")
    response = client.post("/settings/telegram/support_bot", htmx=True)
    body = response.get_data(as_text=True)
    token = re.search(r"https://t\.me/twin24_support_bot\?start=([A-Za-z0-9_-]{20,64})", body).group(1)
    assert "<svg" in body and f'value="/start {token}"' in body
    again = client.post("/settings/telegram/support_bot", htmx=True).get_data(as_text=True)
    assert token not in again  # a new token each time
    assert client.post("/settings/telegram/no_such_bot").status_code == 404


def test_agents_can_list_archived_tickets(rt, as_role, users):
    ticket = make_ticket(rt, users["customer"])
    as_role("customer").post(f"/tickets/{ticket.number}/archive")
    agent = as_role("agent")
    assert f"#{ticket.number}" not in agent.get("/agent/").get_data(as_text=True)
    assert f"#{ticket.number}" in agent.get("/agent/?status=archived").get_data(as_text=True)


def test_ticket_still_renders_after_its_topic_left_the_config(rt, as_role, users, config_dir):
    """The snapshot keeps topic title and field labels when the category file is removed and reloaded."""
    ticket = make_ticket(rt, users["customer"])
    (config_dir / "categories" / "chats.yaml").unlink()
    (config_dir / "teams.yaml").unlink()  # its routing names the category: it would refuse the reload
    assert rt.catalogs.reload().ok and rt.catalog.topic("chats/chat-problem") is None
    for client, url in ((as_role("customer"), f"/tickets/{ticket.number}"), (as_role("agent"), f"/agent/tickets/{ticket.number}")):
        body = client.get(url).get_data(as_text=True)
        assert "Проблема с чатами" in body and "Номер ЛК" in body

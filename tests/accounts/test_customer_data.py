"""A customer's data rights: the export zip's content, erasure keeping statistics and nothing personal, from the
engine, the CLI and the admin page."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from engine import accounts, customer_data, notes, tickets
from engine.attachments import Upload
from engine.errors import PermissionDenied
from engine.redis_conn import redis_url_of
from engine.sessions import start_session
from engine.store.models import ALL_MODELS, AuditLog, BotConversation, Message, Ticket, User, WebSession
from tests.web.conftest import WebClient
from tests.web.helpers import PNG, chat_problem

pytestmark = pytest.mark.postgres
TG_ID = 918273645
SECRETS = ("vera.private@example.com", "Вера Секретная", "team.private@example.com", "vera_secret_tg", str(TG_ID),
           "Бот молчит секретно", "мой пароль от админки 4242", "qwerty-account-777", "ответ агента для Веры")


@pytest.fixture
def story(rt):
    """A customer with a linked Telegram chat, a ticket with a file, a staff reply and note, notifications."""
    vera = accounts.create_user("vera.private@example.com", "long enough secret", name="Вера Секретная")
    accounts.set_notify_emails(rt, vera, ["team.private@example.com"])
    accounts.set_telegram_username(rt, vera, "vera_secret_tg", enabled=True)
    User.update(telegram_id=TG_ID).where(User.id == vera.id).execute()
    accounts.link_chat(rt, vera, "support_bot", TG_ID, TG_ID, "vera_secret_tg")
    BotConversation.create(binding="support_bot", chat_id=TG_ID, state={"draft": "Бот молчит секретно"})
    agent = accounts.create_user("agent@example.com", "long enough secret", role="agent", name="Агент")
    ticket = tickets.create_ticket(rt, vera, "chats/chat-problem",
                                   chat_problem(subject="Бот молчит секретно", message="мой пароль от админки 4242",
                                                account_id="777", chat_id="qwerty-account-777"),
                                   [Upload("screen.png", PNG)], "web")
    tickets.add_reply(rt, ticket, agent, "ответ агента для Веры", [], "web")
    notes.add_note(rt, ticket, agent, "внутренняя заметка", "web")
    start_session(vera)
    return {"customer": User.get_by_id(vera.id), "agent": agent, "ticket": ticket}


def read_zip(data: bytes) -> tuple[zipfile.ZipFile, dict]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return archive, {name: json.loads(archive.read(name)) for name in archive.namelist() if name.endswith(".json")}


def test_export_holds_the_account_tickets_messages_files_and_notifications(rt, story):
    out = io.BytesIO()
    assert customer_data.export_customer(rt, story["customer"], out, actor=story["agent"], by="test") == 1
    archive, data = read_zip(out.getvalue())
    account = data["account.json"]
    assert (account["email"], account["name"], account["telegram_id"]) == ("vera.private@example.com", "Вера Секретная", TG_ID)
    assert account["notify_emails"] == ["team.private@example.com"] and account["telegram_links"][0]["chat_id"] == TG_ID
    [ticket] = data["tickets.json"]
    assert (ticket["number"], ticket["subject"], ticket["fields"]["chat_id"]) == (
        story["ticket"].number, "Бот молчит секретно", "qwerty-account-777")
    bodies = [m["body"] for m in ticket["messages"]]
    assert bodies == ["мой пароль от админки 4242", "ответ агента для Веры"]  # the staff-only note is not theirs
    [file] = ticket["messages"][0]["attachments"]
    assert archive.read(file["file"]) == PNG and file["name"] == "screen.png"
    assert {n["type"] for n in data["notifications.json"]} >= {"support_reply"}
    audit = AuditLog.get(AuditLog.action == "customer_export")
    assert (audit.actor_id, audit.detail) == (story["agent"].id, {"user_id": story["customer"].id, "by": "test", "tickets": 1})


def stored_text() -> str:
    """Every row of every table, as text."""
    return "\n".join(str(list(model.select().dicts())) for model in ALL_MODELS)


def test_erase_keeps_the_statistics_and_nothing_personal(rt, story):
    customer, ticket = story["customer"], story["ticket"]
    digest = Message.get(Message.ticket == ticket).attachments[0].sha256
    before = Ticket.get_by_id(ticket.id)
    assert all(secret in stored_text() for secret in SECRETS)

    report = customer_data.erase_customer(rt, customer, by="test")
    assert (report.tickets, report.messages, report.files, report.telegram_links) == (1, 3, 1, 1)
    after = Ticket.get_by_id(ticket.id)
    for kept in ("number", "category_id", "topic_id", "priority", "status", "channel", "created_at", "customer_id"):
        assert getattr(after, kept) == getattr(before, kept)
    assert Message.select().where(Message.ticket == ticket).count() == 3  # counts and times stay, the words go
    everything = stored_text()
    assert [secret for secret in SECRETS if secret in everything] == []
    assert not rt.blobs.exists(digest)
    erased = User.get_by_id(customer.id)
    assert not erased.is_active and erased.email.endswith(".invalid") and erased.telegram_id is None
    assert WebSession.select().count() == 0 and BotConversation.select().count() == 0
    assert AuditLog.get(AuditLog.action == "customer_erase").detail["user_id"] == customer.id


def test_staff_accounts_are_not_exported_or_erased(rt, story):
    with pytest.raises(PermissionDenied):
        customer_data.erase_customer(rt, story["agent"])
    with pytest.raises(PermissionDenied):
        customer_data.export_customer(rt, story["agent"], io.BytesIO())


def test_cli_export_and_erase(rt, story, redis, monkeypatch, tmp_path, capsys):
    from run import main

    monkeypatch.setenv("HELPDESK_CONFIG", str(rt.settings.config_dir))
    monkeypatch.setenv("HELPDESK_DATA", str(rt.settings.data_dir))
    monkeypatch.setenv("REDIS_URL", redis_url_of(redis))
    if rt.settings.database_url:
        monkeypatch.setenv("DATABASE_URL", rt.settings.database_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    target = tmp_path / "vera.zip"
    assert main(["user", "export", "Vera.Private@example.com", "-o", str(target)]) == 0
    assert read_zip(target.read_bytes())[1]["tickets.json"][0]["number"] == story["ticket"].number
    assert main(["user", "export", "nobody@example.com", "-o", str(tmp_path / "x.zip")]) == 1
    assert not (tmp_path / "x.zip").exists()
    assert main(["user", "erase", "vera.private@example.com"]) == 2  # no --yes
    assert User.get_by_id(story["customer"].id).is_active
    assert main(["user", "erase", "vera.private@example.com", "--yes"]) == 0
    assert "1 ticket(s) anonymised" in capsys.readouterr().out
    assert not User.get_by_id(story["customer"].id).is_active
    assert main(["user", "erase", "agent@example.com", "--yes"]) == 1


def test_admin_data_page(rt, story, app_client):
    admin = accounts.create_user("admin@example.com", "long enough secret", role="admin")
    customer = story["customer"]
    as_customer = app_client()
    as_customer.login(customer.email, "long enough secret")
    assert as_customer.get(f"/admin/users/{customer.id}/data").status_code == 404
    client = app_client()
    client.login(admin.email, "long enough secret")
    assert client.get(f"/admin/users/{customer.id}/data").status_code == 200
    export = client.post(f"/admin/users/{customer.id}/data/export")
    assert export.status_code == 200 and export.mimetype == "application/zip"
    assert read_zip(export.get_data())[1]["account.json"]["id"] == customer.id
    assert client.post(f"/admin/users/{customer.id}/data/erase", {"confirm": "someone@example.com"}).status_code == 422
    assert User.get_by_id(customer.id).is_active
    done = client.post(f"/admin/users/{customer.id}/data/erase", {"confirm": customer.email})
    assert done.status_code == 200 and not User.get_by_id(customer.id).is_active
    assert client.post(f"/admin/users/{story['agent'].id}/data/erase", {"confirm": "agent@example.com"}).status_code == 403
    assert client.get("/admin/users/999999/data").status_code == 404
    assert {a.actor_id for a in AuditLog.select().where(AuditLog.action.in_(["customer_export", "customer_erase"]))} == {admin.id}


@pytest.fixture
def app_client(rt):
    from web import create_app

    app = create_app(runtime=rt, overrides={"TESTING": True})
    return lambda: WebClient(app.test_client())


"""`run.py user list | set-role | deactivate | reactivate | invite`, audited as the shell user."""
from __future__ import annotations

import pytest

import run
from engine import accounts, sessions
from engine.store.models import AuditLog, Notification, User, WebSession
from tests.engine.test_store import cli_env  # noqa: F401  (fixture)

PASSWORD = "long enough secret"


@pytest.fixture
def people(rt, cli_env):  # noqa: F811
    return {role: accounts.create_user(f"{role}@example.com", PASSWORD, role=role, name=role.title())
            for role in ("customer", "agent", "admin")}


def test_list_filters_by_role_and_search(people, capsys):
    accounts.create_user("pending@example.com", None)
    assert run.main(["user", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "admin@example.com\tadmin\tactive\tAdmin" and lines[-1] == "4 account(s)"
    assert "pending@example.com\tcustomer\tno_password\t" in lines
    assert run.main(["user", "list", "--role", "agent"]) == 0
    assert capsys.readouterr().out.splitlines() == ["agent@example.com\tagent\tactive\tAgent", "1 account(s)"]
    assert run.main(["user", "list", "--search", "CUST"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 account(s)"


def test_set_role_keeps_the_last_admin_and_is_audited(people, capsys):
    assert run.main(["user", "set-role", "--email", "admin@example.com", "--role", "agent"]) == 1
    assert "last active administrator" in capsys.readouterr().out
    assert run.main(["user", "set-role", "--email", "agent@example.com", "--role", "admin"]) == 0
    assert run.main(["user", "set-role", "--email", "admin@example.com", "--role", "customer"]) == 0
    assert User.get(User.email == "admin@example.com").role == "customer"
    row = AuditLog.select().where(AuditLog.action == "user_role").order_by(AuditLog.id.desc()).get()
    assert row.actor is None and row.detail["by"].startswith("cli:") and row.detail["new"] == "customer"


def test_deactivate_ends_sessions_and_reactivate_lets_back_in(people, capsys):
    sessions.start_session(people["customer"])
    assert run.main(["user", "deactivate", "--email", "Customer@Example.com"]) == 0
    assert "deactivated; its sessions ended" in capsys.readouterr().out
    assert WebSession.select().count() == 0 and accounts.authenticate("customer@example.com", PASSWORD) is None
    assert run.main(["user", "reactivate", "--email", "customer@example.com"]) == 0
    assert accounts.authenticate("customer@example.com", PASSWORD) is not None
    assert run.main(["user", "deactivate", "--email", "nobody@example.com"]) == 1
    assert [r.action for r in AuditLog.select().order_by(AuditLog.id) if r.action != "config_reload"] == [
        "user_deactivate", "user_reactivate"]


def test_invite_emails_a_link_under_public_url(people, capsys, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://help.example")
    assert run.main(["user", "invite", "--email", "vera@example.com", "--name", "Вера"]) == 0
    assert capsys.readouterr().out.strip() == "invitation sent to vera@example.com"
    link = Notification.get(Notification.type_id == "account_invite").params["link"]
    assert link.startswith("https://help.example/invite/")
    assert run.main(["user", "invite", "--email", "customer@example.com"]) == 1
    assert "already has an account" in capsys.readouterr().out
    assert AuditLog.get(AuditLog.action == "invite").detail["by"].startswith("cli:")

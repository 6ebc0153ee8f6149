"""Server-side sessions: signing out, "all devices", password and role changes end sessions wherever copied."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

import run
from engine import accounts, live_cache
from engine.catalog import load_catalog
from engine.catalog.errors import ConfigErrors
from engine.sessions import session_key
from engine.store.models import WebSession
from engine.sweeper import sweep
from tests.engine.test_store import cli_env  # noqa: F401  (fixture)
from tests.web.conftest import WebClient

COOKIE = "helpdesk_session"


def signed_in(app, email) -> WebClient:
    client = WebClient(app.test_client())
    assert client.login(email).status_code == 303
    return client


def copy_of(app, client: WebClient) -> WebClient:
    """Another browser holding a copy of `client`'s cookie (stolen, or synced to a second device)."""
    thief = WebClient(app.test_client())
    thief.client.set_cookie(COOKIE, client.client.get_cookie(COOKIE).value)
    return thief


def token_of(client: WebClient) -> str:
    with client.client.session_transaction() as session:
        return session["sid"]


def is_signed_in(client: WebClient) -> bool:
    response = client.get("/tickets")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_cookie_copied_before_logout_is_refused_after_it(app, users):
    client = signed_in(app, users["customer"].email)
    thief = copy_of(app, client)
    assert is_signed_in(thief)
    assert client.post("/logout").status_code == 303
    assert not is_signed_in(thief)
    assert not is_signed_in(client)
    assert WebSession.select().count() == 0


def test_logout_ends_only_that_session(app, users):
    laptop, phone = signed_in(app, users["customer"].email), signed_in(app, users["customer"].email)
    laptop.post("/logout")
    assert is_signed_in(phone)


def test_sign_out_of_all_devices_from_the_settings_page(app, users):
    laptop, phone = signed_in(app, users["customer"].email), signed_in(app, users["customer"].email)
    other = signed_in(app, users["other"].email)
    page = laptop.get("/settings").get_data(as_text=True)
    assert 'action="/settings/sessions/end"' in page and "Выйти на всех устройствах" in page
    response = laptop.post("/settings/sessions/end")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert not is_signed_in(laptop) and not is_signed_in(phone)
    assert is_signed_in(other)


def test_a_password_change_ends_the_other_sessions(app, users):
    user = users["customer"]
    here, elsewhere = signed_in(app, user.email), signed_in(app, user.email)
    accounts.set_password(user, "a brand new password", keep_session=token_of(here))
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)
    assert accounts.authenticate(user.email, "a brand new password") is not None


def test_a_role_change_ends_every_session(app, users):
    agent = signed_in(app, users["agent"].email)
    assert agent.get("/agent/").status_code == 200
    accounts.set_role(users["agent"], "customer")
    assert agent.get("/agent/").status_code == 302


def test_cli_password_and_role_changes_end_sessions(app, users, cli_env, capsys):  # noqa: F811
    client = signed_in(app, users["customer"].email)
    assert run.main(["user", "set-password", "--email", users["customer"].email, "--password", "other pass 123"]) == 0
    assert not is_signed_in(client)
    client = signed_in(app, users["agent"].email)
    assert run.main(["user", "set-role", "--email", users["agent"].email, "--role", "admin"]) == 0
    assert not is_signed_in(client)
    assert run.main(["user", "set-role", "--email", "nobody@example.com", "--role", "admin"]) == 1
    assert "sessions ended" in capsys.readouterr().out


def _age(client: WebClient, **ages: timedelta) -> None:
    now = datetime.now(timezone.utc)
    key = session_key(token_of(client))
    WebSession.update({getattr(WebSession, k): now - v for k, v in ages.items()}).where(WebSession.key == key).execute()
    live_cache.changed(key)  # written behind the engine's back: announced as the engine announces its changes


@pytest.mark.parametrize("ages", [{"seen_at": timedelta(days=1, minutes=1)},  # idle 1d
                                  {"created_at": timedelta(days=14, minutes=1)}])  # lifetime 14d, however active
def test_idle_and_absolute_lifetimes_end_a_session(app, users, ages):
    client = signed_in(app, users["customer"].email)
    _age(client, seen_at=timedelta(hours=23))
    assert is_signed_in(client)  # used within the idle time: still in, and the use counts
    _age(client, **ages)
    assert not is_signed_in(client)
    assert WebSession.select().count() == 0


def test_lifetimes_follow_the_config(rt, app, users, config_dir):
    client = signed_in(app, users["customer"].email)
    _age(client, seen_at=timedelta(minutes=10))
    assert is_signed_in(client)
    policies = config_dir / "policies.yaml"
    policies.write_text(re.sub(r"  sessions: .*", "  sessions: {idle: 5m, lifetime: 1d}", policies.read_text()))
    assert rt.catalogs.reload().ok
    _age(client, seen_at=timedelta(minutes=10))
    assert not is_signed_in(client)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=14)  # cookie expiry: set at start


@pytest.mark.parametrize("sessions, message", [("{idle: 20d, lifetime: 14d}", "must not be longer than lifetime"),
                                               ("{idle: 30s}", "idle must be at least 1m"),
                                               ("{lifetime: 2 days}", "sessions.lifetime")])
def test_session_policies_are_validated(config_dir, sessions, message):
    policies = config_dir / "policies.yaml"
    policies.write_text(re.sub(r"  sessions: .*", f"  sessions: {sessions}", policies.read_text()))
    with pytest.raises(ConfigErrors) as caught:
        load_catalog(config_dir)
    assert message in "\n".join(map(str, caught.value.errors))


def test_the_sweep_deletes_expired_sessions(rt, app, users):
    stale, fresh = signed_in(app, users["customer"].email), signed_in(app, users["other"].email)
    _age(stale, seen_at=timedelta(days=2))
    assert sweep(rt).sessions == 1
    assert WebSession.select().count() == 1 and is_signed_in(fresh)


def test_the_database_holds_no_usable_token(app, users):
    client = signed_in(app, users["customer"].email)
    assert WebSession.get().key == session_key(token_of(client)) != token_of(client)

"""Reliability fixtures: the notification stack (fast policies, SMTP, fake Bot API, worker processes) plus the web app."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from engine import accounts
from tests.notify.conftest import bound, config_dir, fake_api, mailbox, settings, workers  # noqa: F401  (shared fixtures)
from tests.reliability.load import Customer, live_server
from web import create_app

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Production argon2 costs ~0.3 s a hash; load tests sign in many customers (the server runs in this process)."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def app(rt):
    return create_app(runtime=rt)


@pytest.fixture
def server(app):
    """The app on a real waitress server with the production limits."""
    with live_server(app) as running:
        yield running


@pytest.fixture
def customer(rt, server) -> Customer:
    """A customer signed in over HTTP."""
    accounts.create_user("anna@example.com", PASSWORD)
    return Customer(server.url, "anna@example.com", PASSWORD)

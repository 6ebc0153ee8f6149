"""Reliability fixtures: the notification stack (fast policies, SMTP, fake Bot API, worker processes) plus the web app."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from engine import accounts
from tests.notify.conftest import bound, config_dir, fake_api, mailbox, settings, workers  # noqa: F401  (shared fixtures)
from web import create_app

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Production argon2 costs ~0.3 s a hash; load tests sign in many customers (the server runs in this process)."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def app(rt):
    return create_app(runtime=rt)

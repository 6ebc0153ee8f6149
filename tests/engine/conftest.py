"""Domain fixtures: a stable test config with every field type, accounts of each role, sample files."""
from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

import pytest

from engine.accounts import hash_password
from engine.catalog import load_catalog
from engine.store.models import User

ENGINE_CONFIG = Path(__file__).parent / "config"


@pytest.fixture
def config_dir(tmp_path) -> Path:
    """A private copy of the domain tests' config (all field types, every ticket notification type)."""
    target = tmp_path / "config"
    shutil.copytree(ENGINE_CONFIG, target)
    return target


@pytest.fixture
def catalog(config_dir):
    return load_catalog(config_dir)


@lru_cache(maxsize=None)
def _hash(password: str) -> str:
    """argon2 is deliberately slow: hash each fixture password once per session."""
    return hash_password(password)


def make_user(email: str, password: str, role: str = "customer", name: str = "") -> User:
    return User.create(email=email, password_hash=_hash(password), role=role, name=name)


@pytest.fixture
def customer(rt):
    return make_user("customer@example.com", "customer-password", name="Клиент")


@pytest.fixture
def other_customer(rt):
    return make_user("other@example.com", "other-password", name="Другой")


@pytest.fixture
def agent(rt):
    return make_user("agent@example.com", "agent-password", role="agent", name="Агент")

"""Domain fixtures: a stable test config with every field type, accounts of each role, sample files."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.accounts import create_user
from engine.catalog import load_catalog

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


@pytest.fixture
def customer(rt):
    return create_user("customer@example.com", "customer-password", name="Клиент")


@pytest.fixture
def other_customer(rt):
    return create_user("other@example.com", "other-password", name="Другой")


@pytest.fixture
def agent(rt):
    return create_user("agent@example.com", "agent-password", role="agent", name="Агент")


"""Self-service account fixtures: the shipped config (its sign-up policy and account emails), cheap argon2."""
from __future__ import annotations

import pytest
import yaml
from argon2 import PasswordHasher

from engine import accounts

LINK = "https://help.example/verify/{}"
FORGOT = "https://help.example/forgot"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("unknown account"))


def set_signup(rt, **signup) -> None:
    """Rewrite policies.signup in the test's config copy and reload the catalog."""
    path = rt.settings.config_dir / "policies.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["policies"]["signup"] = {**data["policies"].get("signup", {}), **signup}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = rt.catalogs.reload()
    assert result.ok, result

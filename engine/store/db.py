"""Database binding: one peewee DatabaseProxy, pointed at SQLite (WAL) or PostgreSQL by DATABASE_URL."""
from __future__ import annotations

from peewee import DatabaseProxy
from playhouse.db_url import connect

from engine.settings import Settings

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 10_000,  # ms: writers wait instead of failing with "database is locked"
    "foreign_keys": 1,
    "synchronous": "normal",
}


def init_database(settings: Settings):
    """Open the configured database and bind every model to it; returns the peewee Database."""
    url = settings.database_url
    if not url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{settings.sqlite_path}"
    if url.startswith("sqlite"):
        # BEGIN IMMEDIATE: a transaction that reads then writes takes the write lock up front, so a
        # concurrent writer makes it wait (busy_timeout) instead of failing with SQLITE_BUSY_SNAPSHOT.
        db = connect(url, pragmas=SQLITE_PRAGMAS, timeout=10, lock_type="IMMEDIATE")
    else:
        db = connect(url)  # peewee 4 runs in autocommit mode: a failed statement never leaves the connection aborted
    database.initialize(db)
    return db

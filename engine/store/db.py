"""Database binding: one peewee DatabaseProxy, pointed at SQLite (WAL) or PostgreSQL by DATABASE_URL."""
from __future__ import annotations

from peewee import DatabaseProxy, InterfaceError, OperationalError
from playhouse.db_url import connect, parse
from playhouse.pool import PooledPostgresqlDatabase
from playhouse.shortcuts import ReconnectMixin

from engine.settings import Settings

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 10_000,  # ms: writers wait instead of failing with "database is locked"
    "foreign_keys": 1,
    "synchronous": "normal",
}

POOL_SIZE = 32  # connections per process; waitress runs 8 threads, a worker 2 (jobs and sweeper)
POOL_WAIT = 10  # seconds a thread waits for a free pooled connection
POOL_STALE = 300  # seconds after which an idle pooled connection is replaced


class ResilientPostgres(ReconnectMixin, PooledPostgresqlDatabase):
    """PostgreSQL with pooled connections (a request or job checks one out, `close()` gives it back) that
    reconnects once when the server dropped the connection (restart, failover, pg_terminate_backend).
    A statement inside a transaction is never retried silently: the error reaches the caller."""

    reconnect_errors = (
        (OperationalError, "terminating connection"),
        (OperationalError, "server closed the connection"),
        (OperationalError, "connection to server"),
        (InterfaceError, "connection already closed"),
    )


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
        # peewee 4 runs in autocommit mode: a failed statement never leaves the connection aborted.
        db = ResilientPostgres(**parse(url), max_connections=POOL_SIZE, timeout=POOL_WAIT, stale_timeout=POOL_STALE)
    database.initialize(db)
    return db

"""Database binding: one peewee DatabaseProxy, pointed at SQLite (WAL) or PostgreSQL by DATABASE_URL.

Every INSERT, UPDATE or DELETE the process runs that changed a row is reported, with its table, to the
`write_listeners` (after the statement ran: engine.live_cache evicts what showed the table once the write commits),
whichever code made it.
"""
from __future__ import annotations

import re
from typing import Callable

from peewee import DatabaseProxy, InterfaceError, OperationalError, SqliteDatabase
from playhouse.db_url import parse
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

write_listeners: list[Callable[[str], None]] = []  # called with a written table's name
_WRITE = re.compile(r'(?:INSERT(?: OR \w+)? INTO|UPDATE|DELETE FROM) "(\w+)"')

POOL_SIZE = 32  # connections per process; waitress runs 8 threads, a worker 2 (jobs and sweeper)
POOL_WAIT = 10  # seconds a thread waits for a free pooled connection
POOL_STALE = 300  # seconds after which an idle pooled connection is replaced


class ReportsWrites:
    """A peewee Database mixin: tells `write_listeners` which table each write statement changed."""

    def execute_sql(self, sql, params=None):
        cursor = super().execute_sql(sql, params)
        # A statement that changed no row (a sweep's UPDATE finding nothing due) is not a write to report.
        if sql[:1] in "IUD" and cursor.rowcount != 0 and (match := _WRITE.match(sql)):
            for listener in write_listeners:
                listener(match.group(1))
        return cursor


class ReportingSqlite(ReportsWrites, SqliteDatabase):
    """SQLite, reporting its writes."""


class ResilientPostgres(ReportsWrites, ReconnectMixin, PooledPostgresqlDatabase):
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
        db = ReportingSqlite(**{**parse(url), "pragmas": SQLITE_PRAGMAS, "timeout": 10, "lock_type": "IMMEDIATE"})
    else:
        # peewee 4 runs in autocommit mode: a failed statement never leaves the connection aborted.
        db = ResilientPostgres(**parse(url), max_connections=POOL_SIZE, timeout=POOL_WAIT, stale_timeout=POOL_STALE)
    database.initialize(db)
    return db

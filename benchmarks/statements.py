"""Counting SQL statements: what bench_growth.py explains and tests/web/test_flat_growth.py counts per page."""
from __future__ import annotations

from contextlib import contextmanager

from peewee import Database


@contextmanager
def recording(db: Database):
    """The (sql, params) of every statement `db` runs meanwhile (peewee sends every one through execute_sql)."""
    statements, execute_sql = [], db.execute_sql

    def record(sql, params=None, *args, **kwargs):
        statements.append((sql, params))
        return execute_sql(sql, params, *args, **kwargs)

    db.execute_sql = record
    try:
        yield statements
    finally:
        del db.execute_sql

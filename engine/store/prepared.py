"""SELECTs on hot paths whose SQL is built once per database dialect: peewee spends far longer composing a query
than SQLite spends running it."""
from __future__ import annotations

import threading
from typing import Callable

from peewee import SelectQuery

from engine.store.db import database


class PreparedSelect:
    """`build(*markers)` returns the peewee query; `first(*values)` runs its SQL with the values in the markers' places.

    Values go to the driver as given (no field conversion): pass what the column stores (str, int). Rows come back as
    the query would return them (models with their joined models), through the query's own cursor wrapper.
    """

    def __init__(self, build: Callable[..., SelectQuery], arity: int):
        self.build, self.arity = build, arity
        self._compiled: dict[type, tuple[SelectQuery, str, list]] = {}
        self._lock = threading.Lock()

    def first(self, *values):
        db = database.obj
        compiled = self._compiled.get(type(db))
        if compiled is None:
            compiled = self._compile(db)
        query, sql, slots = compiled
        params = [values[slot] if isinstance(slot, _Slot) else slot for slot in slots]
        wrapper = query._get_cursor_wrapper(db.execute_sql(sql, params))
        for row in wrapper.iterator():
            return row
        return None

    def _compile(self, db) -> tuple[SelectQuery, str, list]:
        markers = [f"\x00prepared-marker-{n}\x00" for n in range(self.arity)]
        query = self.build(*markers).bind(db)
        sql, params = query.sql()
        slots = [_Slot(markers.index(p)) if p in markers else p for p in params]
        if sorted(s for s in slots if isinstance(s, _Slot)) != list(range(self.arity)):
            raise ValueError("every marker must appear exactly once among the query's parameters")
        with self._lock:
            self._compiled[type(db)] = (query, sql, slots)
        return query, sql, slots


class _Slot(int):
    """The position of a value among `first`'s arguments, told apart from the query's own integer parameters."""

"""SELECTs and writes on hot paths whose SQL is built once per database dialect: peewee spends far longer composing
a query than SQLite spends running it."""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Callable

from peewee import SelectQuery

from engine.store.db import database


class PreparedSelect:
    """`build(*markers)` returns the peewee query; `first(*values)` runs its SQL with the values in the markers' places
    (`rows` returns every row, `scalar` the first column of the first row).

    Values go to the driver as given (no field conversion): pass what the column stores (str, int). Rows come back as
    the query would return them (models with their joined models), through the query's own cursor wrapper.
    `markers_repeat`: a marker may stand in more than one place (a filter repeated in every part of a UNION).
    """

    markers_repeat = False  # whether a marker may stand in more than one place

    def __init__(self, build: Callable[..., SelectQuery], arity: int, markers_repeat: bool | None = None):
        self.build, self.arity = build, arity
        if markers_repeat is not None:
            self.markers_repeat = markers_repeat
        self._compiled: dict[type, tuple[SelectQuery, str, list]] = {}
        self._plans: dict[type, dict] = {}  # the cursor wrapper's column plan, per dialect
        self._lock = threading.Lock()

    def first(self, *values):
        for row in self._iterate(values):
            return row
        return None

    def rows(self, *values) -> list:
        return list(self._iterate(values))

    def scalar(self, *values):
        row = self._cursor(values)[1].fetchone()
        return row[0] if row else None

    def _iterate(self, values):
        """The rows through the query's cursor wrapper. It maps columns to models the same way for every run of one
        statement: what it works out at its first row (peewee's `initialize`) is kept and handed to later runs."""
        query, cursor = self._cursor(values)
        wrapper = query._get_cursor_wrapper(cursor)
        plan = self._plans.get(type(database.obj))
        if plan is None:
            return self._learning(wrapper, type(database.obj))
        vars(wrapper).update(plan)
        wrapper.initialized = True
        return wrapper.iterator()

    def _learning(self, wrapper, dialect: type):
        before = set(vars(wrapper))
        for row in wrapper.iterator():
            if dialect not in self._plans:
                self._plans[dialect] = {k: v for k, v in vars(wrapper).items() if k not in before}
            yield row

    def _cursor(self, values):
        db = database.obj
        compiled = self._compiled.get(type(db))
        if compiled is None:
            compiled = self._compile(db)
        query, sql, slots = compiled
        return query, db.execute_sql(sql, [values[slot] if isinstance(slot, _Slot) else slot for slot in slots])

    def _compile(self, db) -> tuple[SelectQuery, str, list]:
        markers = [f"\x00prepared-marker-{n}\x00" for n in range(self.arity)]
        query = self.build(*markers).bind(db)
        sql, params = query.sql()
        slots = [_Slot(markers.index(p)) if p in markers else p for p in params]
        used = [s for s in slots if isinstance(s, _Slot)]
        if set(used) != set(range(self.arity)) or (not self.markers_repeat and len(used) != self.arity):
            raise ValueError("every marker must appear exactly once among the query's parameters")
        with self._lock:
            self._compiled[type(db)] = (query, sql, slots)
        return query, sql, slots


def prepared_by_arity(build: Callable[..., SelectQuery]) -> Callable[[int], PreparedSelect]:
    """The PreparedSelect of `build(*markers)` for a given number of markers (an `IN` list of any length), one per
    number, made on first use: `by_count(len(values)).rows(*values)`."""
    return lru_cache(maxsize=64)(lambda arity: PreparedSelect(build, arity))


class PreparedWrite(PreparedSelect):
    """An INSERT/UPDATE built once per dialect; `execute(*values)` runs it. A marker may stand in several places (an
    upsert's update part). Wrap the marker of a field that converts its value (JSON, datetimes) in
    `Value(marker, converter=False)` and pass the value as the column stores it (`Field.db_value`)."""

    markers_repeat = True

    def execute(self, *values) -> None:
        self._cursor(values)


class _Slot(int):
    """The position of a value among `first`'s arguments, told apart from the query's own integer parameters."""

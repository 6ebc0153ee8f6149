"""SELECTs and writes on hot paths whose SQL is built once per database dialect: peewee spends far longer composing
a query than SQLite spends running it."""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Callable

from peewee import Model, SelectQuery, Value

from engine.store.db import database
from engine.store.row_builder import row_builder


class PreparedSelect:
    """`build(*markers)` returns the peewee query; `first(*values)` runs its SQL with the values in the markers' places
    (`all(*values)`: every row; `scalar(*values)`: the first column of the first row). `markers_repeat`: a marker may
    stand in more than one place (a filter repeated in every part of a UNION).

    Values go to the driver as given (no field conversion): pass what the column stores (str, int). Rows come back as
    the query would return them (models with their joined models), through the query's own cursor wrapper, whose
    column set-up (columns, converters, join graph: half the cost of reading a joined row) is done once and kept, and
    whose rows are built by engine.store.row_builder: turning a row into models only reads them, so threads share it.
    """

    markers_repeat = False  # whether a marker may stand in more than one place

    def __init__(self, build: Callable[..., SelectQuery], arity: int, markers_repeat: bool | None = None):
        self.build, self.arity = build, arity
        if markers_repeat is not None:
            self.markers_repeat = markers_repeat
        self._compiled: dict[type, tuple[SelectQuery, str, list]] = {}
        self._readers: dict[type, Callable] = {}
        self._lock = threading.Lock()

    def first(self, *values):
        rows = self._rows(values, one=True)
        return rows[0] if rows else None

    def all(self, *values) -> list:
        return self._rows(values, one=False)

    def scalar(self, *values):
        db = database.obj
        _, sql, slots = self._compiled.get(type(db)) or self._compile(db)
        cursor = db.execute_sql(sql, [values[slot] if isinstance(slot, _Slot) else slot for slot in slots])
        try:
            row = cursor.fetchone()
            return row[0] if row else None
        finally:
            cursor.close()

    def _rows(self, values: tuple, one: bool) -> list:
        db = database.obj
        query, sql, slots = self._compiled.get(type(db)) or self._compile(db)
        cursor = db.execute_sql(sql, [values[slot] if isinstance(slot, _Slot) else slot for slot in slots])
        try:
            rows = [row for row in [cursor.fetchone()] if row is not None] if one else cursor.fetchall()
            if not rows:
                return []
            build = self._readers.get(type(db))
            if build is None:
                reader = query._get_cursor_wrapper(cursor)
                reader.initialize()  # reads the cursor's description only
                build = self._readers[type(db)] = row_builder(reader)
            return [build(row) for row in rows]
        finally:
            cursor.close()

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
    number, made on first use: `by_count(len(values)).all(*values)`."""
    return lru_cache(maxsize=64)(lambda arity: PreparedSelect(build, arity))


class PreparedWrite(PreparedSelect):
    """An INSERT/UPDATE built once per dialect; `execute(*values)` runs it. A marker may stand in several places (an
    upsert's update part). Wrap the marker of a field that converts its value (JSON, datetimes) in
    `Value(marker, converter=False)` and pass the value as the column stores it (`Field.db_value`). `execute` returns
    the cursor (the rows of a RETURNING clause)."""

    markers_repeat = True

    def execute(self, *values):
        db = database.obj
        _, sql, slots = self._compiled.get(type(db)) or self._compile(db)
        return db.execute_sql(sql, [values[slot] if isinstance(slot, _Slot) else slot for slot in slots])


class _Slot(int):
    """The position of a value among `first`'s arguments, told apart from the query's own integer parameters."""


class PreparedInsert:
    """`Model.create` for hot paths: the INSERT's SQL is built once per dialect and set of columns (those given plus
    the model's defaults), then only run. Values are converted by their fields as `create` does; on PostgreSQL (and
    SQLite when configured so) the new primary key comes back through RETURNING, else from the cursor's lastrowid."""

    def __init__(self, model: type[Model]):
        if not model._meta.auto_increment:
            raise ValueError(f"{model.__name__}: PreparedInsert takes a model with an auto-increment primary key")
        self.model = model
        self._compiled: dict[tuple, tuple[str, list]] = {}
        self._lock = threading.Lock()

    def create(self, **values) -> Model:
        row = self.model(**values)
        data = row.__data__
        db = database.obj
        key = (type(db), db.returning_clause, tuple(data))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(db, key)
        sql, fields = compiled
        cursor = db.execute_sql(sql, [field.db_value(data[field.name]) for field in fields])
        row._pk = cursor.fetchone()[0] if db.returning_clause else cursor.lastrowid
        row._dirty.clear()
        return row

    def _compile(self, db, key: tuple) -> tuple[str, list]:
        meta = self.model._meta
        markers = {f"\x00prepared-{name}\x00": meta.fields[name] for name in key[2]}
        query = self.model.insert({field: Value(marker, converter=False) for marker, field in markers.items()}).bind(db)
        if db.returning_clause:
            query = query.returning(meta.primary_key)
        sql, params = query.sql()
        if sorted(params) != sorted(markers):
            raise ValueError(f"{self.model.__name__}: every column must be one parameter of the INSERT")
        fields = [markers[param] for param in params]  # in the order the SQL takes them
        with self._lock:
            self._compiled[key] = (sql, fields)
        return sql, fields


_INSERTS: dict[type, PreparedInsert] = {}


def create(model: type[Model], **values) -> Model:
    """`model.create(**values)` through the model's PreparedInsert."""
    prepared = _INSERTS.get(model)
    if prepared is None:
        prepared = _INSERTS.setdefault(model, PreparedInsert(model))
    return prepared.create(**values)

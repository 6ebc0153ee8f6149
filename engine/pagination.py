"""Keyset pagination with a visible total: pages follow an index, never OFFSET, so page 700 costs what page 1 does.

A list is a base query (its filter), the key it is sorted by (columns ending with a unique one, all ascending or all
descending), and optionally ordered `groups` of `streams`: conditions that split the filter so that each stream is one
index range. Rows are listed group after group (the agents' queue: one group per priority, most urgent first); inside
a group by the key across its streams (one stream per status). Each stream is
`filter AND stream AND key beyond the cursor ORDER BY key LIMIT page size + 1`, a bounded index range scan; the
streams' keys are united in one statement, sorted, and the page's rows joined to them by primary key.

A cursor (opaque text in the URL) holds the group, the key of the row next to it and the position shown in
"Показано 51–100 из 35 021". The total is one COUNT over the filter (an index range).
"""
from __future__ import annotations

import base64
import json
import operator
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Callable, Sequence

from peewee import SQL, DateTimeField, Expression, Field, ModelSelect, Select, Tuple, Value, fn

from engine.store.prepared import PreparedSelect

PAGE_SIZE = 50


@dataclass(frozen=True)
class Cursor:
    """Where a page starts (`after`: rows beyond this key) or ends (`before`: rows before it)."""

    group: int
    key: tuple
    position: int  # 1-based position of the row the cursor points at
    before: bool = False


@dataclass(frozen=True)
class Page:
    rows: list
    total: int
    first: int  # 1-based position of rows[0] (0 when empty)
    next: str | None  # cursor text for the following page
    previous: str | None  # cursor text for the preceding page

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


@dataclass(frozen=True)
class Keyset:
    """A sort key: `fields` compared as one row value, all ascending or all `descending`."""

    fields: tuple[Field, ...]
    descending: bool = False

    def of(self, row) -> tuple:
        return tuple(row.__data__.get(f.name) for f in self.fields)  # a foreign key as its id: no query

    def values(self, key: tuple) -> Tuple:
        """The key as a SQL row value, each part stored as its column stores it (UTC datetimes naive)."""
        return Tuple(*(Value(v, converter=f.db_value) for f, v in zip(self.fields, key)))

    def encode(self, group: int, row, position: int) -> str:
        key = [v.isoformat() if isinstance(v, datetime) else v for v in self.of(row)]
        raw = json.dumps([group, key, position], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, text: str | None, before: bool = False) -> Cursor | None:
        """The cursor from its URL text; None (the first page) for a missing or mangled one."""
        if not text:
            return None
        try:
            group, key, position = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            values = tuple(datetime.fromisoformat(v) if isinstance(f, DateTimeField) else f.adapt(v)
                           for f, v in zip(self.fields, key, strict=True))
            return Cursor(int(group), values, max(1, int(position)), before)
        except (ValueError, TypeError):
            return None


ALL = ((None,),)  # one group, one stream: the filter alone


def paginate(query: ModelSelect, keyset: Keyset, after: str | None = None, before: str | None = None,
             size: int = PAGE_SIZE, groups: Sequence[Sequence[Expression | None]] = ALL,
             counted: ModelSelect | None = None) -> Page:
    """One page of `query` (a filtered select) in `keyset` order: the first, or the one after/before a cursor text
    of an earlier page; plus the total of `counted` (default: `query`; the same filter without the joins that only
    fetch columns). Its SQL is composed on each call: a list on a hot page is a PagedList."""
    filtered = query if counted is None else counted

    def walk(cursor: Cursor | None, limit: int, backwards: bool) -> list:
        limit_key = None if cursor is None else keyset.values(cursor.key)
        group = None if cursor is None else cursor.group
        return _grouped(_walk_query(query, keyset, groups, group, limit_key, limit, backwards, filtered))

    return _paged(keyset, after, before, size, lambda: _counting(filtered).scalar(), walk)


class PagedList:
    """A keyset list whose statements are composed once per shape (the cursor's group and direction, the page size)
    and database dialect (engine.store.prepared): peewee takes far longer composing the walk's UNION than the database
    takes running it. `build(*markers)` returns the list's (query, groups, counted) as `paginate` takes them, with
    markers in place of its `arity` values; `page(*values, ...)` runs them with the values (as their columns store
    them: ids, not models)."""

    def __init__(self, build: Callable[..., tuple], keyset: Keyset, arity: int):
        self.build, self.keyset, self.arity = build, keyset, arity
        self._count = PreparedSelect(lambda *markers: _counting(self._parts(markers)[2]), arity)
        self._walks: dict[tuple, PreparedSelect] = {}

    def page(self, *values, after: str | None = None, before: str | None = None, size: int = PAGE_SIZE) -> Page:
        def walk(cursor: Cursor | None, limit: int, backwards: bool) -> list:
            if cursor is None:
                return _grouped(self._walk(None, limit, backwards).all(*values))
            key = [f.db_value(v) for f, v in zip(self.keyset.fields, cursor.key)]
            return _grouped(self._walk(cursor.group, limit, backwards).all(*values, *key))

        return _paged(self.keyset, after, before, size, lambda: self._count.scalar(*values), walk)

    def _parts(self, markers) -> tuple:
        query, groups, counted = self.build(*markers)
        return query, groups, query if counted is None else counted

    def _walk(self, group: int | None, limit: int, backwards: bool) -> PreparedSelect:
        shape = (group, limit, backwards)
        statement = self._walks.get(shape)
        if statement is None:
            def build(*markers):
                query, groups, filtered = self._parts(markers[:self.arity])
                limit_key = None if group is None else Tuple(*(Value(m, converter=False) for m in markers[self.arity:]))
                return _walk_query(query, self.keyset, groups, group, limit_key, limit, backwards, filtered)

            key_arity = 0 if group is None else len(self.keyset.fields)
            statement = PreparedSelect(build, self.arity + key_arity, markers_repeat=True)
            if len(self._walks) < _SHAPES_KEPT:  # page sizes come from callers: keep a bounded number of shapes
                self._walks[shape] = statement
        return statement


_SHAPES_KEPT = 64


def _counting(filtered: ModelSelect) -> ModelSelect:
    return filtered.order_by().select(fn.COUNT(SQL("*")))


def _paged(keyset: Keyset, after: str | None, before: str | None, size: int, count: Callable[[], int],
           walk: Callable[[Cursor | None, int, bool], list]) -> Page:
    """The page after/before a cursor text, or the first: `walk(cursor, limit, backwards)` gives (group, row) pairs
    beyond the cursor in walking order, `count()` the total."""
    cursor = keyset.decode(before, before=True) or keyset.decode(after)
    total = count()
    if cursor is not None and cursor.before:
        rows = walk(cursor, size, True)
        if len(rows) < size:  # reached the start: show the first page whole
            cursor = None
        else:
            rows.reverse()
            first = max(1, cursor.position - len(rows))
            return _page(keyset, rows[:size], total, first, more_after=True, more_before=first > 1)
    if cursor is None:
        rows = walk(None, size + 1, False)
        return _page(keyset, rows[:size], total, 1 if rows else 0, more_after=len(rows) > size, more_before=False)
    rows = walk(cursor, size + 1, False)
    first = cursor.position if rows else 0
    return _page(keyset, rows[:size], total, first, more_after=len(rows) > size, more_before=True)


def _page(keyset: Keyset, rows: list[tuple[int, object]], total: int, first: int, more_after: bool,
          more_before: bool) -> Page:
    next_text = keyset.encode(*rows[-1], first + len(rows)) if rows and more_after else None
    previous_text = keyset.encode(*rows[0], first) if rows and more_before else None
    return Page([row for _, row in rows], max(total, first + len(rows) - 1), first, next_text, previous_text)


def _grouped(rows) -> list:
    return [(row.page_keys["page_group"], row) for row in rows]  # peewee files the column under its source


def _walk_query(query: ModelSelect, keyset: Keyset, groups, cursor_group: int | None, limit_key: Tuple | None,
                limit: int, backwards: bool, filtered: ModelSelect) -> ModelSelect:
    """The statement of up to `limit` rows beyond the cursor (in group `cursor_group`, keys beyond `limit_key`), in
    walking order: each stream is a bounded index range (`filtered`: the filter without joins), their keys are
    united, the rows joined by key; each row carries its group (`page_keys["page_group"]`)."""
    order = keyset.descending != backwards  # walking towards smaller keys
    indexes = range(len(groups))
    if cursor_group is not None:
        indexes = range(cursor_group, -1, -1) if backwards else range(cursor_group, len(groups))
    elif backwards:
        indexes = range(len(groups) - 1, -1, -1)
    columns = [f.desc() if order else f.asc() for f in keyset.fields]

    def stream(base: ModelSelect, index: int, condition) -> ModelSelect:
        ranged = base if condition is None else base.where(condition)
        if limit_key is not None and index == cursor_group:
            row_key = Tuple(*keyset.fields)
            ranged = ranged.where(row_key < limit_key if order else row_key > limit_key)
        return ranged.order_by(*columns).limit(limit)

    streams = [(index, condition) for index in indexes for condition in groups[index]]
    # Keys first, rows by primary key after ("deferred join"): the keys come from the index alone, and PostgreSQL
    # cannot prefer walking the primary key backwards past other users' rows, as it did for `ORDER BY id LIMIT`.
    model = query.model
    keys = [f.alias(f"k{i}") for i, f in enumerate(keyset.fields)]
    parts = [Select([stream(filtered, index, condition).select(Value(index).alias("page_group"),
                                                               model._meta.primary_key.alias("page_row"), *keys)
                     .alias(f"s{n}")], [SQL("*")]) for n, (index, condition) in enumerate(streams)]
    united = reduce(operator.add, parts).alias("page_keys")
    outer = [united.c.page_group.desc() if backwards else united.c.page_group.asc()]
    outer += [getattr(united.c, f"k{i}").desc() if order else getattr(united.c, f"k{i}").asc() for i in range(len(keys))]
    return (query.switch(model).join(united, on=(model._meta.primary_key == united.c.page_row))
            .select_extend(united.c.page_group).order_by(*outer).limit(limit))

"""The inline check's fragment (a field row and the rows it shows or hides) rendered once per shape, then filled in.

A row's HTML depends on the catalog version, locale, field, check URL and hx-params, on whether it is hidden, on
whether it has an error, and on the typed value of a select (which option is selected) or a checkbox (checked).
A text-like field's value and the error text are only printed: the fragment is rendered once with markers in their
places and each request fills in its own values, escaped as Jinja escapes them. Keys name everything the HTML
depends on (a catalog reload brings a new version), so nothing is invalidated.
"""
from __future__ import annotations

from typing import Callable, Sequence

from markupsafe import Markup, escape

from web.fragments import Holed, Remembered, marker

MAX_SHAPES = 2_000  # fragment shapes kept; the least recently used go first
_PRINTED = object()  # a value the row only prints

_shapes: Remembered[Holed] = Remembered(MAX_SHAPES)


def _shown(field, value: str):
    """What of `value` the row's HTML depends on beyond printing it (`field_row` in _macros.html)."""
    if field.type == "boolean":
        return value in ("true", "on")
    if field.type == "select":
        return next((option.value for option in field.options if value == option.value), None)
    return _PRINTED


def filled(key: tuple, rows: Sequence[tuple[object, str]], error: str | None,
           render: Callable[[Callable[[int], str], str | None], str]) -> Markup:
    """The fragment `render(value_of, error)` makes for `rows` ((field, typed value), the checked field first),
    rendered once per `key` (everything else it depends on) and shape, then filled with the values and error."""
    shown = [_shown(field, value) for field, value in rows]
    printed = [str(escape(error or "")), *(str(escape(value)) for _field, value in rows)]

    def render_marked() -> Holed:
        def value_of(n: int) -> str:
            return marker(n + 1) if shown[n] is _PRINTED else rows[n][1]
        return Holed(render(value_of, marker(0) if error else None))
    return _shapes.get((key, bool(error), *shown), render_marked).fill(printed)

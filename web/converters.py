"""URL converters: route parameters that are refused (404) before a view or the database sees them."""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**63 - 1  # the largest value a BIGINT column (SQLite or PostgreSQL) holds


class IdConverter(BaseConverter):
    """`<id:name>`: a positive database id or ticket number in ASCII digits, at most 2^63-1; anything else is 404."""

    regex = r"[0-9]{1,19}"  # [0-9], not \d: Arabic-Indic and other Unicode digits are not ids
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def init_app(app: Flask) -> None:
    """Register the converters; call before any blueprint is registered."""
    app.url_map.converters["id"] = IdConverter

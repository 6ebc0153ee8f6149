"""Values computed once per key and remembered (least recently used dropped first): rendered HTML whose key names
everything it depends on (catalog version, locale, ...), rendered with markers where each request prints its own
values (`Holed`).

A key changes with what the value shows (a reload brings a new catalog version), so nothing is invalidated: old
keys leave as the least recently used.
"""
from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from typing import Callable, Generic, Sequence, TypeVar

from markupsafe import Markup

Value = TypeVar("Value")
_NONCE = secrets.token_hex(8)  # markers no catalog text or typed value can spell by chance
_MARKER = re.compile(f"\x00{_NONCE}(\\d+)\x00")


def marker(slot: int) -> str:
    """What HTML rendered once holds where a request prints its value number `slot`."""
    return f"\x00{_NONCE}{slot}\x00"


class Holed:
    """Rendered HTML split at its markers: static text at even indices, slot numbers at odd ones."""

    def __init__(self, html: str):
        self.parts: list = _MARKER.split(html)
        for i in range(1, len(self.parts), 2):
            self.parts[i] = int(self.parts[i])

    def fill(self, printed: Sequence[str]) -> Markup:
        """The HTML with each marker replaced by its printed (already escaped) value."""
        parts = self.parts[:]
        for i in range(1, len(parts), 2):
            parts[i] = printed[parts[i]]
        return Markup("".join(parts))


class Remembered(Generic[Value]):
    """At most `limit` values, least recently used dropped first."""

    def __init__(self, limit: int):
        self.limit = limit
        self._values: OrderedDict[tuple, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, compute: Callable[[], Value]) -> Value:
        """The value under `key`, computed by `compute()` the first time."""
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
                return value
        value = compute()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.limit:
                self._values.popitem(last=False)
        return value

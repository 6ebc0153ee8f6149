"""Values computed once per key and remembered (least recently used dropped first): rendered HTML whose key names
everything it depends on (catalog version, locale, ...).

A key changes with what the value shows (a reload brings a new catalog version), so nothing is invalidated: old
keys leave as the least recently used.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, TypeVar

Value = TypeVar("Value")


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

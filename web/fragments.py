"""Rendered HTML remembered by a key naming everything it depends on (catalog version, locale, ...).

A key changes with what the fragment shows (a reload brings a new catalog version), so nothing is invalidated: the
least recently shown fragments leave first.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from markupsafe import Markup


class Fragments:
    """At most `limit` fragments, least recently shown dropped first."""

    def __init__(self, limit: int):
        self.limit = limit
        self._rendered: OrderedDict[tuple, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, render: Callable[[], str]) -> Markup:
        """The fragment under `key`, rendered by `render()` the first time."""
        with self._lock:
            html = self._rendered.get(key)
            if html is not None:
                self._rendered.move_to_end(key)
                return html
        html = Markup(render())
        with self._lock:
            self._rendered[key] = html
            while len(self._rendered) > self.limit:
                self._rendered.popitem(last=False)
        return html

"""CatalogHolder: the current snapshot of a process, swapped atomically on a valid reload (H1 adds Redis sync)."""
from __future__ import annotations

import threading
from pathlib import Path

from engine.catalog.catalog import Catalog
from engine.catalog.loader import ConfigErrors, load_catalog


class CatalogHolder:
    def __init__(self, config_dir: Path | str, redis=None):
        self.config_dir = Path(config_dir)
        self.redis = redis
        self._lock = threading.Lock()
        self._current = load_catalog(self.config_dir)
        self.last_errors = []

    @property
    def current(self) -> Catalog:
        return self._current

    def reload(self) -> bool:
        try:
            new = load_catalog(self.config_dir)
        except ConfigErrors as exc:
            self.last_errors = exc.errors
            return False
        with self._lock:
            self._current, self.last_errors = new, []
        return True

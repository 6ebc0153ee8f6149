"""CatalogHolder: a process's current catalog, swapped atomically on a valid reload, kept in step with the other
processes through Redis, each reload written to the audit log. `engine.catalog` itself knows no Redis or database."""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from peewee import DatabaseError
from redis.exceptions import RedisError

from engine import counters, search
from engine.catalog.catalog import Catalog
from engine.catalog.changes import CatalogChanges, titles
from engine.catalog.errors import ConfigError, ConfigErrors
from engine.catalog.loader import load_catalog
from engine.redis_conn import quick_client
from engine.store.db import database
from engine.store.models import AuditLog

log = logging.getLogger(__name__)

VERSION_KEY = "helpdesk:catalog:version"
TITLES_KEY = "helpdesk:catalog:titles"  # titles of the published catalog, so `config reload` can show changes
CHANNEL = "helpdesk:catalog"
QUICK_TIMEOUT = 0.5  # seconds: the version check runs inside requests, it must not hang when Redis is down
RETRY_AFTER_FAILURE = 10.0  # seconds between version checks while Redis is unreachable


@dataclass(frozen=True)
class ReloadResult:
    """The outcome of one reload: on failure `version` is the one still being served."""

    ok: bool
    errors: list[ConfigError] = field(default_factory=list)
    changes: CatalogChanges = CatalogChanges()
    version: str = ""
    published: bool = False  # other processes were told (False when Redis is absent or unreachable)

    def __bool__(self) -> bool:
        return self.ok


def publish(redis, catalog: Catalog) -> bool:
    """Announce `catalog` as the version every process should serve; False when Redis is unreachable."""
    try:
        with redis.pipeline() as pipe:
            pipe.set(VERSION_KEY, catalog.version)
            pipe.set(TITLES_KEY, json.dumps(titles(catalog), ensure_ascii=False))
            pipe.publish(CHANNEL, catalog.version)
            pipe.execute()
        return True
    except RedisError:
        log.warning("could not publish catalog version %s", catalog.version, exc_info=True)
        return False


def published_version(redis) -> str | None:
    try:
        value = redis.get(VERSION_KEY)
    except RedisError:
        log.warning("could not read the published catalog version", exc_info=True)
        return None
    return value.decode() if isinstance(value, bytes) else value


def published_titles(redis) -> dict[str, str] | None:
    """Titles of the last published catalog, or None if nothing was published."""
    raw = redis.get(TITLES_KEY)
    return json.loads(raw) if raw else None


def prepared(catalog: Catalog) -> Catalog:
    """The catalog with what its first requests would otherwise build (the topic search index) built now."""
    search.index_for(catalog)
    return catalog


class CatalogHolder:
    """Holds the current Catalog; `reload()` swaps it only when the new config is valid."""

    def __init__(self, config_dir: Path | str, redis=None, check_interval: float = 1.0):
        self.config_dir = Path(config_dir)
        self.redis = redis
        self._quick = quick_client(redis, QUICK_TIMEOUT) if redis is not None else None
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._current = prepared(load_catalog(self.config_dir))
        self.last_errors: list[ConfigError] = []
        self.last_reload_at: datetime = self._current.loaded_at
        self._next_check = time.monotonic() + check_interval
        # Follow *changes* of the published version, not differences from it: a process whose files
        # hash differently (another deploy) must not reload every second.
        self._seen_published = published_version(self._quick) if redis is not None else None

    @property
    def current(self) -> Catalog:
        """The snapshot to use now; at most once per check_interval, follow a version another process published."""
        if self.redis is not None and time.monotonic() >= self._next_check:
            self._follow_published()
        return self._current

    def reload(self, actor=None) -> ReloadResult:
        """Load the config from disk; swap and publish if valid, else keep the old snapshot and its errors."""
        with self._lock:
            result = self._load()
            if result.ok and self.redis is not None and publish(self._quick, self._current):
                self._seen_published = result.version
                result = dataclasses.replace(result, published=True)
            self._audit(result, actor)
            counters.count(self._quick, "config_reloads", result="ok" if result.ok else "failed")  # /metrics
            return result

    def _follow_published(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # another thread is checking or reloading; serve the current snapshot meanwhile
        try:
            try:
                raw = self._quick.get(VERSION_KEY)
            except RedisError as exc:
                log.warning("catalog version check failed, serving %s: %s", self._current.version, exc)
                self._next_check = time.monotonic() + RETRY_AFTER_FAILURE
                return
            self._next_check = time.monotonic() + self.check_interval
            published = raw.decode() if raw else None
            if published and published != self._seen_published:
                self._seen_published = published
                if published != self._current.version:
                    result = self._load()
                    if not result.ok:
                        log.error("catalog %s was published but does not load here:\n%s", published, "\n".join(map(str, result.errors)))
        finally:
            self._lock.release()

    def _load(self) -> ReloadResult:
        old = self._current
        try:
            new = prepared(load_catalog(self.config_dir))
        except ConfigErrors as exc:
            self.last_errors, self.last_reload_at = exc.errors, datetime.now(timezone.utc)
            return ReloadResult(False, exc.errors, CatalogChanges(), old.version)
        self._current, self.last_errors, self.last_reload_at = new, [], new.loaded_at
        return ReloadResult(True, [], CatalogChanges.between(titles(old), titles(new)), new.version)

    @staticmethod
    def _audit(result: ReloadResult, actor) -> None:
        """Record the reload when this process has a database (`config check` has none)."""
        if database.obj is None:
            return
        detail = {"ok": result.ok, "version": result.version, "published": result.published, "changes": result.changes.as_dict(), "errors": [str(e) for e in result.errors]}
        try:
            AuditLog.create(actor=actor, action="config_reload", detail=detail)
        except DatabaseError:
            log.exception("could not write the config_reload audit row")

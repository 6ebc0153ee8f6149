"""CatalogHolder: a process's current catalog, loaded from the newest config version stored in the database and
swapped atomically when another one is stored; each reload written to the audit log. `engine.catalog` itself
knows no Redis or database.

The flow: `config reload` (or the admin page) reads a folder into a bundle, validates it, stores it as a new
`ConfigVersion` row (engine.config_versions) and announces the number through Redis; every holder's follower
(engine.config_follower) hears it and loads that version from the database. Polling the database is the fallback.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from peewee import Database, DatabaseError
from redis.exceptions import RedisError

from engine import counters, search
from engine.catalog.bundle import ConfigBundle
from engine.catalog.catalog import Catalog
from engine.catalog.changes import CatalogDiff, catalog_diff
from engine.catalog.errors import ConfigError, ConfigErrors
from engine.catalog.loader import load_bundle, load_folder
from engine.config_follower import POLL_INTERVAL, VersionFollower
from engine.config_versions import VersionInfo, latest_number, load_version, store_first, store_version, this_user
from engine.redis_conn import quick_client
from engine.store.models import AuditLog, User

log = logging.getLogger(__name__)

VERSION_KEY = "helpdesk:catalog:version"  # the newest stored version's number (a hint: the database is the truth)
CHANNEL = "helpdesk:catalog"  # pub/sub: the number of each newly stored version
QUICK_TIMEOUT = 0.5  # seconds: announcing must not hang a reload when Redis is down


@dataclass(frozen=True)
class ReloadResult:
    """The outcome of one reload: on failure `version` is the one still being served."""

    ok: bool
    errors: list[ConfigError] = field(default_factory=list)
    changes: CatalogDiff = CatalogDiff()
    version: str = ""
    published: bool = False  # other processes were told through Redis (else they find it at their next poll)
    number: int | None = None  # the stored version now served (None without a database)
    stored: bool = False  # a new version row was written (False when the files equal the newest version's)

    def __bool__(self) -> bool:
        return self.ok

    def audit_detail(self) -> dict:
        """What the audit row of this reload (or rollback) keeps."""
        return {"ok": self.ok, "version": self.version, "number": self.number, "stored": self.stored,
                "published": self.published, "changes": self.changes.as_dict(), "errors": [str(e) for e in self.errors]}


@dataclass(frozen=True)
class Draft:
    """The config folder as a reload would store it, compared with the running catalog; nothing is applied."""

    catalog: Catalog | None  # None when the folder has errors
    errors: list[ConfigError]
    diff: CatalogDiff
    files: list[str]  # files added, removed, changed since the running version ("+ path", "- path", "~ path")


def announce(redis, number: int) -> bool:
    """Tell every process that version `number` was stored; False when Redis is unreachable."""
    try:
        with redis.pipeline() as pipe:
            pipe.set(VERSION_KEY, number)
            pipe.publish(CHANNEL, number)
            pipe.execute()
        return True
    except RedisError as exc:
        log.warning("could not announce config version %s (processes find it at their next poll): %s", number, exc)
        return False


def prepared(catalog: Catalog) -> Catalog:
    """The catalog with what its first requests would otherwise build (the topic search index) built now."""
    search.index_for(catalog)
    return catalog


def version_root(number: int) -> str:
    """How errors name the files of a stored version: `config@v3/forms/x.yaml:2: ...`."""
    return f"config@v{number}"


def load_stored(number: int) -> tuple[VersionInfo, Catalog]:
    """A stored version's catalog; raises ConfigErrors when it does not load with this code."""
    info, bundle = load_version(number)
    return info, prepared(load_bundle(bundle, version_root(number)))


def read_folder(config_dir: Path) -> tuple[ConfigBundle, Catalog]:
    """A folder's bundle and its catalog; raises ConfigErrors."""
    return load_folder(config_dir)


def read_stored(number: int) -> tuple[ConfigBundle, Catalog]:
    """A stored version's bundle and catalog, to publish it again (a rollback); raises ConfigErrors, and
    ConfigVersion.DoesNotExist for a number never stored."""
    _, bundle = load_version(number)
    return bundle, load_bundle(bundle, version_root(number))


def audit(action: str, actor, detail: dict) -> None:
    """An audit row: `actor` is a User, or the name of a shell user (`cli:<user>@<host>`) kept in the detail."""
    user = actor if isinstance(actor, User) else None
    name = actor.email if user is not None else actor
    AuditLog.create(actor=user, action=action, detail={**detail, "actor": name} if name else detail)


@contextmanager
def connected(db: Database):
    """A connection for this block: opened (and closed after) only if the thread had none."""
    opened = db.is_closed()
    if opened:
        db.connect(reuse_if_open=True)
    try:
        yield
    finally:
        if opened:
            db.close()


class CatalogHolder:
    """Holds the current Catalog. With a database, it serves the newest stored version and follows new ones;
    `reload()` stores the folder's files as a new version when they are valid. Without one (`config check`, unit
    tests), it serves the folder itself."""

    def __init__(self, config_dir: Path | str, redis=None, db: Database | None = None, poll_interval: float = POLL_INTERVAL):
        self.config_dir = Path(config_dir)
        self.db = db
        self._quick = quick_client(redis, QUICK_TIMEOUT) if redis is not None else None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Catalog], None]] = []
        self.last_errors: list[ConfigError] = []
        self.number: int | None = None  # the stored version served; None: the folder itself (no stored version yet)
        self._refused: int | None = None  # a stored version that did not load here: not tried again
        self._current = prepared(self._first_catalog())
        self.last_reload_at: datetime = self._current.loaded_at
        self._follower = None
        if db is not None:
            self._follower = VersionFollower(self, redis, CHANNEL, poll_interval)
            self._follower.start()

    @property
    def current(self) -> Catalog:
        """The snapshot to use now (a plain read: the follower thread swaps it)."""
        return self._current

    def on_switch(self, callback: Callable[[Catalog], None]) -> None:
        """Call `callback(catalog)` after every swap to another catalog (in the thread that swapped)."""
        self._listeners.append(callback)

    def close(self) -> None:
        """Stop following (the follower thread ends within a second)."""
        if self._follower is not None:
            self._follower.stop()

    def _first_catalog(self) -> Catalog:
        """The newest stored version; the folder, stored as version 1, when none is; the folder alone without a
        versions table (a database not upgraded yet, or unreachable: the follower switches once it answers)."""
        if self.db is None:
            return read_folder(self.config_dir)[1]
        try:
            with connected(self.db):
                number = latest_number()
                if number is None:
                    bundle, catalog = read_folder(self.config_dir)
                    if store_first(bundle, catalog, this_user("start")) is not None:
                        self.number = 1
                        return catalog
                    number = latest_number()
                info, catalog = load_stored(number)
        except DatabaseError as exc:
            log.warning("config versions are not readable (%s): serving the folder %s until they are", exc, self.config_dir)
            return read_folder(self.config_dir)[1]
        self.number = info.number
        return catalog

    def follow_latest(self) -> None:
        """Switch to the newest stored version if it is newer than the one served and loads here (the follower's call)."""
        with self._lock, connected(self.db):
            number = latest_number()
            if number is None or number <= (self.number or 0) or number == self._refused:
                return
            try:
                _, catalog = load_stored(number)
            except ConfigErrors as exc:
                self._refused, self.last_errors, self.last_reload_at = number, exc.errors, datetime.now(timezone.utc)
                log.error("config version %s was stored but does not load here; still serving %s:\n%s",
                          number, self._current.version, "\n".join(map(str, exc.errors)))
                return
            self.number = number
            self._swap(catalog)
            log.info("switched to config version %s (%s)", number, catalog.version)

    def reload(self, actor=None, comment: str = "") -> ReloadResult:
        """Validate the folder; if valid, store it as the newest version, swap, and tell every process. An invalid
        folder (or a database that refuses the row) keeps the running snapshot and reports why."""
        return self._publish(lambda: read_folder(self.config_dir), actor, comment, "config_reload")

    def rollback(self, number: int, actor=None, comment: str = "") -> ReloadResult:
        """Publish stored version `number` again as the newest version (every process follows it); raises
        ConfigVersion.DoesNotExist for a number never stored."""
        with connected(self.db):
            load_version(number)  # DoesNotExist before anything is audited
        return self._publish(lambda: self._read_stored(number), actor, comment, "config_rollback", {"from": number})

    def draft(self) -> Draft:
        """What a reload of the folder would change, without applying it."""
        try:
            bundle, catalog = read_folder(self.config_dir)
        except ConfigErrors as exc:
            return Draft(None, exc.errors, CatalogDiff(), [])
        files = []
        if self.db is not None and self.number is not None:
            with connected(self.db):
                files = bundle.changed_files(load_version(self.number)[1])
        return Draft(catalog, [], catalog_diff(self._current, catalog), files)

    def _read_stored(self, number: int) -> tuple[ConfigBundle, Catalog]:
        with connected(self.db):
            return read_stored(number)

    def _publish(self, read, actor, comment: str, action: str, extra: dict | None = None) -> ReloadResult:
        with self._lock:
            old = self._current
            try:
                bundle, new = read()
                changes = catalog_diff(old, new)  # once: the result's, and the stored summary's when `old` is the latest
                info, stored = self._store(bundle, new, actor, comment, (self.number, changes))
            except ConfigErrors as exc:
                self.last_errors, self.last_reload_at = exc.errors, datetime.now(timezone.utc)
                result = ReloadResult(False, exc.errors, CatalogDiff(), old.version, number=self.number)
            else:
                if info is not None:
                    self.number = info.number
                self._swap(new)
                published = stored and self._quick is not None and announce(self._quick, info.number)
                result = ReloadResult(True, [], changes, new.version, published, self.number, stored)
            self._audit(action, result, actor, extra or {})
            counters.count(self._quick, "config_reloads", result="ok" if result.ok else "failed")  # /metrics
            return result

    def _store(self, bundle: ConfigBundle, catalog: Catalog, actor, comment: str,
               since: tuple[int | None, CatalogDiff]) -> tuple[VersionInfo | None, bool]:
        if self.db is None:
            return None, False
        name = actor.email if isinstance(actor, User) else actor or this_user("process")
        try:
            with connected(self.db):
                return store_version(bundle, catalog, name, comment, since)
        except DatabaseError as exc:
            raise ConfigErrors([ConfigError(self.config_dir.as_posix(), 1, "", f"not stored in the database: {exc}")]) from exc

    def _swap(self, catalog: Catalog) -> None:
        """Serve `catalog` (the same object kept when its content is the same) and tell the listeners."""
        self.last_errors, self.last_reload_at = [], catalog.loaded_at
        if catalog.version == self._current.version:
            return
        self._current = prepared(catalog)
        for callback in self._listeners:
            try:
                callback(catalog)
            except Exception:
                log.exception("a catalog switch listener failed")

    def _audit(self, action: str, result: ReloadResult, actor, extra: dict) -> None:
        """Record the reload when this process has a database (`config check` has none)."""
        if self.db is None:
            return
        try:
            with connected(self.db):
                audit(action, actor, {**result.audit_detail(), **extra})
        except DatabaseError:
            log.exception("could not write the %s audit row", action)

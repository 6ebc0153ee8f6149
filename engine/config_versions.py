"""Config versions in the database: each validated bundle `config reload` stored, with who, when, why and what
changed. The newest row is the config every process serves; older rows are the history (diff and rollback build on
`history` and `load_version`)."""
from __future__ import annotations

import base64
import getpass
import logging
import socket
from dataclasses import dataclass
from datetime import datetime

from peewee import IntegrityError, fn

from engine.catalog.bundle import ConfigBundle, sha256
from engine.catalog.catalog import Catalog
from engine.catalog.changes import CatalogDiff, catalog_diff
from engine.catalog.errors import ConfigErrors
from engine.catalog.loader import load_bundle
from engine.pagination import PAGE_SIZE, Keyset, Page, paginate
from engine.store.models import ConfigVersion

log = logging.getLogger(__name__)

STORE_ATTEMPTS = 5  # two publishers racing for the same number: the loser takes the next one


@dataclass(frozen=True)
class VersionInfo:
    """A history row without its files."""

    number: int
    hash: str
    catalog_version: str
    actor: str
    created_at: datetime
    comment: str
    summary: str


def this_user(prefix: str) -> str:
    """`prefix:<user>@<host>`: the actor of a version stored from a shell or a starting process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{prefix}:{user}@{socket.gethostname()}"


def latest_number() -> int | None:
    """The newest version's number (one primary-key lookup), None while none is stored."""
    return ConfigVersion.select(fn.MAX(ConfigVersion.number)).scalar()


def load_version(number: int) -> tuple[VersionInfo, ConfigBundle]:
    """A stored version and its bundle; raises ConfigVersion.DoesNotExist."""
    row = ConfigVersion.get_by_id(number)
    return _info(row), ConfigBundle({f["path"]: base64.b64decode(f["data"]) for f in row.files})


NEWEST_FIRST = Keyset((ConfigVersion.number,), descending=True)


def _without_files():
    return ConfigVersion.select(*[f for f in ConfigVersion._meta.sorted_fields if f.name != "files"])


def history(limit: int = 50) -> list[VersionInfo]:
    """The newest `limit` versions, newest first, without their files."""
    return [_info(row) for row in _without_files().order_by(ConfigVersion.number.desc()).limit(limit)]


def history_page(after: str | None = None, before: str | None = None, size: int = PAGE_SIZE) -> Page:
    """One page of the history, newest first (keyset cursors as engine.pagination writes them); rows are VersionInfo."""
    page = paginate(_without_files(), NEWEST_FIRST, after, before, size, counted=ConfigVersion.select())
    return Page([_info(row) for row in page.rows], page.total, page.first, page.next, page.previous)


def store_version(bundle: ConfigBundle, catalog: Catalog, actor: str, comment: str = "",
                  since: tuple[int | None, CatalogDiff] | None = None) -> tuple[VersionInfo, bool]:
    """Store `bundle` as the newest version, unless it already is: (that version, whether it was stored now).

    `since` is (version number, its diff to `catalog`) when the caller has it (the version it serves): the summary
    then reuses it instead of loading that version's files again."""
    for _ in range(STORE_ATTEMPTS):
        previous = latest_number()
        if previous is not None:
            before_info, before = load_version(previous)
            if before.hash == bundle.hash:
                return before_info, False
            known = since[1] if since is not None and since[0] == previous else None
            summary = "\n".join(bundle.changed_files(before) + _catalog_changes(before, catalog, known))
        else:
            summary = f"first version: {len(bundle.files)} files"
        try:
            return _insert((previous or 0) + 1, bundle, catalog, actor, comment, summary), True
        except IntegrityError:
            continue  # another publisher took the number meanwhile
    raise RuntimeError(f"could not store a config version after {STORE_ATTEMPTS} attempts")


def store_first(bundle: ConfigBundle, catalog: Catalog, actor: str) -> VersionInfo | None:
    """Store `bundle` as version 1 of an empty history; None when another process stored version 1 first."""
    try:
        return _insert(1, bundle, catalog, actor, "", f"first version: {len(bundle.files)} files")
    except IntegrityError:
        return None


def _insert(number: int, bundle: ConfigBundle, catalog: Catalog, actor: str, comment: str, summary: str) -> VersionInfo:
    files = [{"path": rel, "sha256": sha256(data), "data": base64.b64encode(data).decode("ascii")} for rel, data in bundle.files.items()]
    with ConfigVersion._meta.database.atomic():
        row = ConfigVersion.create(number=number, hash=bundle.hash, catalog_version=catalog.version, files=files,
                                   actor=actor[:200], comment=comment, summary=summary)
    return _info(row)


def _catalog_changes(before: ConfigBundle, catalog: Catalog, known: CatalogDiff | None) -> list[str]:
    """What changed in the catalog since `before` (engine.catalog.changes; nothing when `before` no longer loads here)."""
    if known is None:
        try:
            known = catalog_diff(load_bundle(before), catalog)
        except ConfigErrors:
            return []
    return known.lines("en", catalog.policies.default_locale)  # worded in English everywhere


def _info(row: ConfigVersion) -> VersionInfo:
    return VersionInfo(row.number, row.hash, row.catalog_version, row.actor, row.created_at, row.comment, row.summary)

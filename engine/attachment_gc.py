"""Deleting attachment contents no Attachment row refers to: files kept for a form that was never sent again.

Only blobs last written more than `grace` ago are considered, and `put` renews a blob it already holds, so content
being submitted (written seconds before its ticket's transaction) or kept for a form (an hour) is never taken.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Iterable, Iterator

from engine.blobstore import BlobStore
from engine.store.models import Attachment

GRACE = timedelta(days=1)
BATCH = 500  # keys looked up in the database per query


@dataclass
class Collection:
    """What one run found: old blobs looked at, and the unreferenced ones deleted (or that would be, on a dry run)."""

    scanned: int = 0
    deleted: list[str] = field(default_factory=list)


def collect_unreferenced(store: BlobStore, now: datetime, grace: timedelta = GRACE, dry_run: bool = False) -> Collection:
    """Delete every blob older than `grace` that no Attachment row names; raises StorageUnavailable."""
    result = Collection()
    for chunk in _batches(store.keys_modified_before(now - grace), BATCH):
        result.scanned += len(chunk)
        query = Attachment.select(Attachment.sha256).where(Attachment.sha256.in_(chunk)).distinct()
        referenced = {row.sha256 for row in query}
        for key in chunk:
            if key not in referenced:
                if not dry_run:
                    store.delete(key)
                result.deleted.append(key)
    return result


def _batches(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk

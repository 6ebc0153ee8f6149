"""The blob store contract: put bytes under their SHA-256, read them back as a stream, check, delete."""
from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Iterator

from engine.errors import BlobNotFound

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def blob_key(data: bytes) -> str:
    """The key of `data` in every store: its SHA-256 hex digest."""
    return hashlib.sha256(data).hexdigest()


def blob_path(key: str) -> str:
    """The relative location of a key, `<sha[:2]>/<sha>` (the local folder's layout, and the S3 key after the prefix)."""
    if not SHA256_RE.match(key or ""):
        raise BlobNotFound("not a SHA-256 hex digest")
    return f"{key[:2]}/{key}"


@dataclass
class Blob:
    """An opened blob: a binary stream to read and close, and its size in bytes."""

    stream: BinaryIO
    size: int

    def __enter__(self) -> "Blob":
        return self

    def __exit__(self, *_exc) -> None:
        self.stream.close()


class BlobStore(ABC):
    """Content-addressed storage. Raises engine.errors.StorageUnavailable when the storage cannot be reached (nothing
    was written then) and engine.errors.BlobNotFound for a key it does not hold."""

    #: "local" or "s3": for logs, readiness and docs.
    kind: str

    @abstractmethod
    def put(self, data: bytes) -> str:
        """Store `data`; returns its key. Idempotent: the same content gives the same key and one stored copy, whose
        modification time is renewed (so a collection of old unreferenced blobs never takes one being reused)."""

    @abstractmethod
    def open(self, key: str) -> Blob:
        """The content of `key` as a stream (use as a context manager, or close `.stream`)."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether `key` is stored."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove `key`; a key that is not stored is no error."""

    @abstractmethod
    def keys_modified_before(self, cutoff: datetime) -> Iterator[str]:
        """Every stored key last written before `cutoff` (an aware datetime), in no particular order."""

    def read(self, key: str) -> bytes:
        """The whole content of `key`."""
        with self.open(key) as blob:
            return blob.stream.read()

    def readiness(self) -> str | None:
        """"ok" or why the storage cannot be used; None when there is nothing to check beyond the process itself."""
        return None

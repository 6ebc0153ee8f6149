"""Blobs in a local folder: `<root>/<sha[:2]>/<sha>`, written atomically (temp file, fsync, rename)."""
from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Iterator

from engine.blobstore.base import SHA256_RE, Blob, BlobStore, blob_key, blob_path
from engine.errors import BlobNotFound, StorageUnavailable


class LocalBlobStore(BlobStore):
    """The default store: the data folder's `attachments/` (one host, or a folder every host mounts)."""

    kind = "local"

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / blob_path(key)

    def put(self, data: bytes) -> str:
        key = blob_key(data)
        path = self.path(key)
        try:
            os.utime(path)  # already stored: renew it
            return key
        except OSError:
            if path.is_file():  # stored, though a read-only folder cannot renew it
                return key
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except OSError as exc:  # a read-only or full data folder
            raise StorageUnavailable(f"local storage {self.root}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StorageUnavailable(f"local storage {self.root}: {exc}") from exc
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def open(self, key: str) -> Blob:
        try:
            stream = self.path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobNotFound(key) from None
        except OSError as exc:
            raise StorageUnavailable(f"local storage {self.root}: {exc}") from exc
        return Blob(stream, os.fstat(stream.fileno()).st_size)

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except BlobNotFound:
            return False

    def keys_modified_before(self, cutoff: datetime) -> Iterator[str]:
        limit = cutoff.timestamp()
        for path in self.root.glob("??/*"):
            if SHA256_RE.match(path.name) and path.name[:2] == path.parent.name and path.stat().st_mtime < limit:
                yield path.name

    def delete(self, key: str) -> None:
        try:
            self.path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"local storage {self.root}: {exc}") from exc

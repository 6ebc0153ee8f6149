"""Where attachment contents live: a content-addressed blob store chosen by `STORAGE_URL`.

Empty (the default): the local data folder (`LocalBlobStore`, `data/attachments/<sha[:2]>/<sha>`).
`s3://bucket/prefix`: S3-compatible object storage (`S3BlobStore`, boto3; endpoint, region and credentials from
boto3's own variables). Keys are SHA-256 hex digests of the content, laid out the same way in both stores.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from engine.blobstore.base import Blob, BlobStore, blob_key
from engine.blobstore.local import LocalBlobStore
from engine.settings import Settings

__all__ = ["Blob", "BlobStore", "LocalBlobStore", "blob_key", "open_store"]


def open_store(settings: Settings) -> BlobStore:
    """The store `settings.storage_url` names; raises ValueError for a URL it cannot use."""
    url = settings.storage_url.strip()
    if not url:
        return LocalBlobStore(settings.attachments_dir)
    parts = urlsplit(url)
    if parts.scheme == "s3" and parts.netloc:
        from engine.blobstore.s3 import S3BlobStore  # boto3 is imported only where S3 is configured

        return S3BlobStore.from_env(parts.netloc, parts.path, settings.env)
    if parts.scheme == "file" and parts.path:
        return LocalBlobStore(parts.path)
    raise ValueError(f"STORAGE_URL: expected s3://bucket[/prefix] or file:///folder, got {url!r}")

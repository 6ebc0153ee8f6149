"""The blob store contract, run against the local folder and a real S3-compatible server (moto_server)."""
from __future__ import annotations

import hashlib

import pytest

from engine.blobstore import LocalBlobStore, open_store
from engine.blobstore.s3 import READINESS_TTL, S3BlobStore
from engine.errors import BlobNotFound, StorageUnavailable
from engine.settings import Settings
from tests.storage.moto import CREDENTIALS, free_port

CONTENT = b"%PDF-1.4 " + bytes(range(256)) * 64  # 16 KB, every byte value


def test_put_returns_the_sha256_and_is_idempotent(store):
    key = store.put(CONTENT)
    assert key == hashlib.sha256(CONTENT).hexdigest()
    assert store.put(CONTENT) == key
    assert store.exists(key)


def test_open_streams_the_content_with_its_size(store):
    key = store.put(CONTENT)
    with store.open(key) as blob:
        assert blob.size == len(CONTENT)
        head = blob.stream.read(100)
        rest = blob.stream.read()
    assert head + rest == CONTENT
    assert store.read(key) == CONTENT


def test_missing_and_malformed_keys_are_not_found(store):
    missing = hashlib.sha256(b"never stored").hexdigest()
    for key in (missing, "../../etc/passwd", "", "A" * 64):
        assert not store.exists(key)
        with pytest.raises(BlobNotFound):
            store.open(key)


def test_delete_removes_and_tolerates_a_missing_key(store):
    key = store.put(CONTENT)
    other = store.put(b"another file")
    store.delete(key)
    assert not store.exists(key) and store.exists(other)
    store.delete(key)  # again: no error
    with pytest.raises(BlobNotFound):
        store.read(key)


def test_empty_content_round_trips(store):
    key = store.put(b"")
    assert store.read(key) == b""


def test_s3_layout_is_the_local_one_under_the_prefix(moto_server):
    """`aws s3 sync data/attachments s3://bucket/prefix` moves an existing folder as it is."""
    bucket = moto_server.create_bucket()
    store = moto_server.store(bucket, prefix="/helpdesk/files/")
    key = store.put(CONTENT)
    listed = store.client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"helpdesk/files/{key[:2]}/{key}"]


def test_storage_url_chooses_the_store(tmp_path, moto_server):
    base = Settings(data_dir=tmp_path / "data")
    local = open_store(base)
    assert isinstance(local, LocalBlobStore) and local.root == tmp_path / "data" / "attachments"
    s3 = open_store(base.with_overrides(storage_url="s3://my-bucket/pre", env=moto_server.env()))
    assert isinstance(s3, S3BlobStore) and (s3.bucket, s3.prefix, s3.endpoint_url) == ("my-bucket", "pre/", moto_server.url)
    assert isinstance(open_store(base.with_overrides(storage_url=f"file://{tmp_path}/x")), LocalBlobStore)
    with pytest.raises(ValueError, match="STORAGE_URL"):
        open_store(base.with_overrides(storage_url="ftp://host/x"))


def test_unreachable_s3_raises_storage_unavailable_and_readiness_says_why():
    closed = f"http://127.0.0.1:{free_port()}"
    now = [100.0]
    store = S3BlobStore.from_env("bucket", "", {**CREDENTIALS, "AWS_ENDPOINT_URL": closed})
    store.clock = lambda: now[0]
    with pytest.raises(StorageUnavailable, match="s3://bucket/"):
        store.put(CONTENT)
    with pytest.raises(StorageUnavailable):
        store.open(hashlib.sha256(CONTENT).hexdigest())
    assert store.readiness().startswith("unavailable: ")


def test_s3_readiness_is_cached_briefly(moto_server):
    bucket = moto_server.create_bucket()
    store = moto_server.store(bucket)
    now = [100.0]
    store.clock = lambda: now[0]
    assert store.readiness() == "ok"
    store.bucket = "no-such-bucket"  # as if the bucket vanished
    now[0] += READINESS_TTL / 2
    assert store.readiness() == "ok"  # the cached answer
    now[0] += READINESS_TTL
    assert store.readiness().startswith("unavailable: ")


def test_a_local_folder_that_cannot_be_written_is_storage_unavailable(tmp_path):
    """A read-only or full data folder (here: the folder's place taken by a file, which stops root too)."""
    root = tmp_path / "attachments"
    root.write_bytes(b"not a folder")
    store = LocalBlobStore(root)
    with pytest.raises(StorageUnavailable, match="local storage"):
        store.put(CONTENT)
    with pytest.raises(BlobNotFound):
        store.open(hashlib.sha256(CONTENT).hexdigest())

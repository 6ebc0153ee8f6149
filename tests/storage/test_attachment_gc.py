"""Collecting attachment contents nothing refers to: only old ones, never a referenced or renewed one."""
from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest

import run
from engine.attachment_gc import collect_unreferenced
from engine.blobstore import LocalBlobStore
from engine.clock import utcnow
from tests.web.helpers import PNG, make_ticket

ORPHAN = b"%PDF-1.4 kept for a form that was never sent"


def test_keys_modified_before_a_cutoff(store):
    keys = {store.put(b"one"), store.put(b"two")}
    assert set(store.keys_modified_before(utcnow() + timedelta(hours=1))) == keys
    assert list(store.keys_modified_before(utcnow() - timedelta(hours=1))) == []


def test_putting_stored_content_again_renews_it(tmp_path):
    store = LocalBlobStore(tmp_path / "attachments")
    key = store.put(PNG)
    old = time.time() - 3 * 86400
    os.utime(store.path(key), (old, old))
    assert list(store.keys_modified_before(utcnow() - timedelta(days=1))) == [key]
    store.put(PNG)  # a new ticket with the same file
    assert list(store.keys_modified_before(utcnow() - timedelta(days=1))) == []


def test_only_old_unreferenced_blobs_are_deleted(rt, users):
    make_ticket(rt, users["customer"], files=[("screen.png", PNG)])
    referenced, orphan = rt.blobs.put(PNG), rt.blobs.put(ORPHAN)
    assert collect_unreferenced(rt.blobs, utcnow()).deleted == []  # both younger than the grace period

    later = utcnow() + timedelta(days=2)
    dry = collect_unreferenced(rt.blobs, later, dry_run=True)
    assert (dry.scanned, dry.deleted) == (2, [orphan]) and rt.blobs.exists(orphan)
    assert collect_unreferenced(rt.blobs, later).deleted == [orphan]
    assert not rt.blobs.exists(orphan) and rt.blobs.read(referenced) == PNG


def test_the_command(rt, users, settings, monkeypatch, capsys):
    monkeypatch.setattr(os, "environ", {**os.environ, **settings.env, "HELPDESK_DATA": str(settings.data_dir),
                                        "HELPDESK_CONFIG": str(settings.config_dir), "STORAGE_URL": settings.storage_url,
                                        "DATABASE_URL": settings.database_url})
    rt.blobs.put(ORPHAN)
    assert run.main(["attachments", "gc", "--dry-run", "--grace", "0s"]) == 0
    assert "s3 store: 1 blob(s) older than 0:00:00, would delete 1 unreferenced" in capsys.readouterr().out
    assert rt.blobs.exists(rt.blobs.put(ORPHAN))
    assert run.main(["attachments", "gc", "--grace", "0s"]) == 0
    assert not list(rt.blobs.keys_modified_before(utcnow() + timedelta(days=1)))
    with pytest.raises(SystemExit):
        run.main(["attachments", "gc", "--grace", "soon"])

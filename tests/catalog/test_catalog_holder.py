"""CatalogHolder: atomic reloads, kept snapshots on error, stored versions followed through Redis and polling, audit rows."""
from __future__ import annotations

import dataclasses
import time

import pytest
from redis import Redis

from engine.catalog import load_catalog
from engine.catalog_sync import CHANNEL, VERSION_KEY, CatalogHolder
from engine.config_versions import latest_number
from engine.store.models import AuditLog
from tests.waiting import wait_for

NEW_TOPIC = "  - id: billing\n    title: Оплата\n"


def test_version_is_a_content_hash(mini):
    """Same files give the same version; any byte changed gives another; loaded_at is set."""
    first, again = load_catalog("config"), load_catalog("config")
    assert first.version == again.version and len(first.version) == 12
    assert first.loaded_at.tzinfo is not None
    mini.write("policies.yaml", "policies: {}\n")
    assert load_catalog("config").version != first.version


def test_snapshot_is_immutable(mini):
    """Nobody can change a loaded snapshot in place."""
    catalog = load_catalog("config")
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.version = "x"
    with pytest.raises(TypeError):
        catalog.forms["x"] = None
    with pytest.raises(TypeError):
        catalog.ui["ru"]["telegram"]["skip"] = "x"
    with pytest.raises(Exception):
        catalog.policies.default_locale = "en"


def test_failed_reload_keeps_the_old_snapshot(mini):
    """An invalid config never replaces a good one; the errors stay for display until the next good reload."""
    holder = CatalogHolder("config")
    old = holder.current
    mini.write("forms/chat-problem.yaml", "id: chat-problem\nextends: nope\n")
    result = holder.reload()
    assert not result.ok and result.version == old.version and result.changes.empty
    assert [str(e) for e in result.errors] == [str(e) for e in holder.last_errors]
    assert str(holder.last_errors[0]) == "config/forms/chat-problem.yaml:2: extends: unknown parent form 'nope'"
    assert holder.current is old
    mini.write("forms/chat-problem.yaml", "id: chat-problem\nextends: default\n")
    assert holder.reload().ok and holder.last_errors == []


@pytest.mark.postgres
def test_reload_stores_and_announces_the_version(mini, redis, versions_db):
    """A good reload stores a new version, sets the version key and sends its number; a bad one stores nothing."""
    holder = CatalogHolder("config", redis=redis, db=versions_db)
    assert holder.number == 1  # the folder became version 1 of the empty history
    pubsub = redis.pubsub()
    pubsub.subscribe(CHANNEL)
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    assert not holder.reload().stored  # the same files: nothing new to store
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты 2\ntopics:\n" + NEW_TOPIC)
    result = holder.reload(comment="why")
    assert result.stored and result.published and result.number == 2 == holder.number
    assert redis.get(VERSION_KEY) == b"2" and pubsub.get_message(timeout=1)["data"] == b"2"
    mini.write("categories/chats.yaml", "id: chats\n")
    assert not holder.reload().ok
    assert redis.get(VERSION_KEY) == b"2" and pubsub.get_message(timeout=0.2) is None and latest_number() == 2
    pubsub.close()
    holder.close()


@pytest.mark.postgres
def test_other_holder_follows_the_stored_version_not_its_folder(mini, redis, versions_db, tmp_path):
    """A second holder (another host's, with a broken folder of its own) switches to each stored version."""
    writer = CatalogHolder("config", redis=redis, db=versions_db)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "categories").mkdir(parents=True)
    (elsewhere / "categories" / "chats.yaml").write_text("broken: [")
    reader = CatalogHolder(elsewhere, redis=redis, db=versions_db)
    assert reader.current.version == writer.current.version and reader.number == 1
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты 2\ntopics:\n" + NEW_TOPIC)
    new_version = writer.reload().version
    wait_for(lambda: reader.current.version == new_version, message="the reader to switch")
    assert reader.current.category("chats").title == "Чаты 2" and reader.number == 2
    writer.close(), reader.close()


@pytest.mark.postgres
def test_without_redis_a_holder_follows_by_polling(mini, versions_db):
    """No Redis at all: the database poll alone brings the new version."""
    writer = CatalogHolder("config", db=versions_db)
    reader = CatalogHolder("config", db=versions_db, poll_interval=0.1)
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты 2\ntopics:\n" + NEW_TOPIC)
    version = writer.reload().version
    wait_for(lambda: reader.current.version == version, message="the reader to poll")
    writer.close(), reader.close()


@pytest.mark.postgres
def test_reload_writes_an_audit_row(rt):
    """With a database bound, each reload leaves a config_reload audit row with its version and changes."""
    result = rt.catalogs.reload()
    row = AuditLog.get(AuditLog.action == "config_reload")
    assert row.detail["ok"] is True and row.detail["version"] == result.version and row.detail["number"] == result.number
    assert row.detail["changes"] == {"lines": []} and row.detail["errors"] == []


@pytest.mark.postgres
def test_redis_down_keeps_serving_and_reloading(mini, tmp_path, versions_db):
    """With Redis unreachable, `.current` answers at once and a reload still stores and swaps, saying it was not announced."""
    dead = Redis(unix_socket_path=str(tmp_path / "no-such.sock"))  # redis-py's default client retries for seconds
    started = time.monotonic()
    holder = CatalogHolder("config", redis=dead, db=versions_db)
    assert holder.current.category("chats").title == "Чаты"
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты 2\ntopics:\n" + NEW_TOPIC)
    result = holder.reload()
    assert result.ok and result.stored and not result.published and holder.current.category("chats").title == "Чаты 2"
    assert time.monotonic() - started < 1
    holder.close()

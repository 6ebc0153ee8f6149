"""CatalogHolder: atomic reloads, kept snapshots on error, Redis publication, audit rows."""
from __future__ import annotations

import dataclasses
import time

import pytest
from redis import Redis

from engine.catalog import load_catalog
from engine.catalog_sync import CHANNEL, VERSION_KEY, CatalogHolder, published_titles
from engine.store.models import AuditLog

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


def test_reload_reports_changes(mini):
    """A valid reload swaps the snapshot and lists added, removed and renamed categories and topics."""
    holder = CatalogHolder("config")
    old = holder.current
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты и рассылки\ntopics:\n  - id: other\n    title: Другое\n" + NEW_TOPIC)
    mini.write("categories/money.yaml", "id: money\ntitle: Финансы\ntopics:\n" + NEW_TOPIC)
    result = holder.reload()
    assert result.ok and result.errors == [] and result.version == holder.current.version != old.version
    assert result.changes.lines() == [
        "+ category money",
        "~ category chats: Чаты -> Чаты и рассылки",
        "+ topic chats/billing",
        "+ topic money/billing",
        "- topic chats/chat-problem",
        "~ topic chats/other: Иное -> Другое",
    ]


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


def test_reload_publishes_version_through_redis(mini, redis):
    """A good reload sets the version key, stores the titles and sends a pub/sub message; a bad one publishes nothing."""
    holder = CatalogHolder("config", redis=redis)
    pubsub = redis.pubsub()
    pubsub.subscribe(CHANNEL)
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    result = holder.reload()
    assert result.published and redis.get(VERSION_KEY).decode() == result.version
    assert pubsub.get_message(timeout=1)["data"].decode() == result.version
    assert published_titles(redis)["chats/other"] == "Иное"
    mini.write("categories/chats.yaml", "id: chats\n")
    assert not holder.reload().ok
    assert redis.get(VERSION_KEY).decode() == result.version and pubsub.get_message(timeout=0.2) is None
    pubsub.close()


def test_other_holder_follows_the_published_version(mini, redis):
    """A second holder (another process's) switches when a new version is published, and keeps its snapshot if that fails."""
    writer = CatalogHolder("config", redis=redis)
    reader = CatalogHolder("config", redis=redis, check_interval=0)
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты 2\ntopics:\n" + NEW_TOPIC)
    new_version = writer.reload().version
    assert reader.current.version == new_version
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты 3\ntopics:\n" + NEW_TOPIC)
    writer.reload()
    mini.write("categories/chats.yaml", "broken: [")  # the reader's disk is broken when it follows
    assert reader.current.version == new_version
    assert "YAML syntax error" in str(reader.last_errors[0])


def test_reader_checks_redis_at_most_once_per_interval(mini, redis):
    """Between checks `.current` does not touch Redis at all."""
    reader = CatalogHolder("config", redis=redis, check_interval=3600)
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты 2\ntopics:\n" + NEW_TOPIC)
    CatalogHolder("config", redis=redis).reload()
    assert reader.current.version != redis.get(VERSION_KEY).decode()


@pytest.mark.postgres
def test_reload_writes_an_audit_row(rt):
    """With a database bound, each reload leaves a config_reload audit row with its version and changes."""
    result = rt.catalogs.reload()
    row = AuditLog.get(AuditLog.action == "config_reload")
    assert row.detail["ok"] is True and row.detail["version"] == result.version
    assert row.detail["changes"]["topics_added"] == [] and row.detail["errors"] == []


def test_redis_down_keeps_serving_and_reloading(mini, tmp_path):
    """With Redis unreachable, `.current` answers at once and a reload still swaps locally, saying it was not published."""
    dead = Redis(unix_socket_path=str(tmp_path / "no-such.sock"))  # redis-py's default client retries for seconds
    started = time.monotonic()
    holder = CatalogHolder("config", redis=dead, check_interval=0)
    assert holder.current.category("chats").title == "Чаты"
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты 2\ntopics:\n" + NEW_TOPIC)
    result = holder.reload()
    assert result.ok and not result.published and holder.current.category("chats").title == "Чаты 2"
    assert time.monotonic() - started < 1

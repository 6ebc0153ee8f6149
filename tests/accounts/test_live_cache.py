"""The in-process cache of signed-in sessions and unread counts (engine.live_cache): what one process revokes,
another process's cache drops; without a live subscription the database answers."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

from engine import accounts, live_cache, notify, sessions
from engine.catalog.schema import SessionPolicy
from engine.store.models import Notification, User, WebSession
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
POLICY = SessionPolicy()
# Another process: signs the user out everywhere through the engine, on the same database and Redis.
SIGN_OUT_EVERYWHERE = """
import sys
from redis import Redis
from engine import live_cache, sessions
from engine.settings import Settings
from engine.store.db import init_database
from engine.store.models import User
data_dir, database_url, redis_socket, user_id = sys.argv[1:]
init_database(Settings(data_dir=__import__("pathlib").Path(data_dir), database_url=database_url))
live_cache.publish_with(Redis(unix_socket_path=redis_socket))
sessions.end_user_sessions(User.get_by_id(int(user_id)))
"""


@pytest.fixture
def cache(rt):
    """The runtime's cache, following the test Redis and live."""
    rt.cache.follow(rt.redis)
    wait_for(lambda: rt.cache.live, message="the eviction subscription")
    return rt.cache


def _signed_in(email: str = "agent@example.com"):
    user = accounts.create_user(email, "long enough secret", role="agent")
    return user, sessions.start_session(user)


def _forget_rows_unannounced(token: str) -> None:
    """Delete the session behind the cache's back: only a cache that is not trusted notices."""
    WebSession.delete().where(WebSession.key == sessions.session_key(token)).execute()


def test_signing_out_everywhere_in_another_process_ends_the_cached_session_here(rt, cache):
    user, token = _signed_in()
    # the next page reads no database (a put while the subscription lags, on a loaded machine, is not stored)
    wait_for(lambda: sessions.session_user(token, POLICY, cache=cache).id == user.id
             and cache.get(sessions.session_key(token)) is not None, message="the session cached")

    socket = rt.redis.connection_pool.connection_kwargs["path"]
    subprocess.run([sys.executable, "-c", SIGN_OUT_EVERYWHERE, str(rt.settings.data_dir), rt.settings.database_url,
                    socket, str(user.id)], cwd=ROOT, check=True, capture_output=True)
    wait_for(lambda: cache.get(sessions.session_key(token)) is None, message="the eviction from the other process")
    assert sessions.session_user(token, POLICY, cache=cache) is None


def test_sign_out_role_change_and_unread_counts_evict_at_once_in_this_process(rt, cache):
    user, token = _signed_in()
    other = sessions.start_session(user)
    sessions.session_user(token, POLICY, cache=cache), sessions.session_user(other, POLICY, cache=cache)
    sessions.end_session(token)
    assert sessions.session_user(token, POLICY, cache=cache) is None
    assert sessions.session_user(other, POLICY, cache=cache).role == "agent"
    accounts.set_role(user, "admin")  # ends its sessions
    assert sessions.session_user(other, POLICY, cache=cache) is None

    assert notify.unread_count(user, cache) == 0
    notify.notify(rt.catalog, user, "low_balance", {}, idempotency_key="n1")
    assert Notification.get().in_app and notify.unread_count(user, cache) == 1
    notify.mark_read(user)
    assert notify.unread_count(user, cache) == 0


def test_a_read_that_raced_an_eviction_is_not_stored_and_entries_expire():
    now = [0.0]
    cache = live_cache.LiveCache(ttl=5, clock=lambda: now[0])
    cache.heard()
    token = cache.token()
    cache.evict(["u:1"])
    cache.put("k", "read before the eviction", token, tags=("u:1",))
    assert cache.get("k") is None
    cache.put("k", "value", cache.token(), tags=("u:1",))
    assert cache.get("k") == "value"
    now[0] = 2.9  # the subscription answered within STALE_AFTER, the entry within its TTL
    assert cache.get("k") == "value"
    now[0] = 3.0
    assert cache.get("k") is None and not cache.live  # no answer from Redis for STALE_AFTER: not trusted
    cache.heard()
    now[0] = 5.0
    assert cache.get("k") is None  # past its TTL


def test_without_a_live_subscription_the_database_answers(rt, cache, tmp_path):
    _, token = _signed_in()
    key = sessions.session_key(token)
    assert sessions.session_user(token, POLICY, cache=cache) is not None and cache.get(key) is not None
    rt.redis.client_kill_filter(_type="pubsub")  # the connection is lost (messages on it could be)
    wait_for(lambda: cache.get(key) is None, message="the cache dropped with its subscription")
    _forget_rows_unannounced(token)
    assert sessions.session_user(token, POLICY, cache=cache) is None

    away = live_cache.LiveCache()
    away.follow(Redis(unix_socket_path=str(tmp_path / "no-redis.sock")))  # Redis away: never live
    try:
        _, token = _signed_in("customer@example.com")
        assert sessions.session_user(token, POLICY, cache=away) is not None and away.get(sessions.session_key(token)) is None
        _forget_rows_unannounced(token)
        assert sessions.session_user(token, POLICY, cache=away) is None
    finally:
        away.close()


def test_the_tags_of_one_transaction_go_out_in_one_message_once_it_commits(rt, cache):
    """A ticket notifying several people evicts their counts with one publish after commit; a rolled-back
    transaction announces nothing, and the next one its own tags."""
    listener = rt.redis.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(live_cache.CHANNEL)
    wait_for(lambda: rt.redis.pubsub_numsub(live_cache.CHANNEL)[0][1] >= 2, message="the test's subscription")
    for key in ("a", "b"):
        cache.put(key, 1, cache.token(), tags=(f"t:{key}",))
    with rt.db.atomic():
        live_cache.changed("t:a")
        live_cache.changed("t:b", "t:a")
        assert cache.get("a") == 1  # not before the commit
    assert cache.get("a") is None and cache.get("b") is None
    with pytest.raises(ZeroDivisionError), rt.db.atomic():
        live_cache.changed("t:c")
        1 / 0
    with rt.db.atomic():
        live_cache.changed("t:d")
    heard = []
    wait_for(lambda: (message := listener.get_message(timeout=0.1)) and heard.append(message["data"]) or len(heard) >= 2,
             message="the announcements")
    listener.close()
    assert heard == [b"t:a t:b", b"t:d"]


class EvictionLog(live_cache.LiveCache):
    """A cache that is always live (a clock that stands still, no subscription to lose) and lists what it evicted."""

    def __init__(self):
        super().__init__(clock=lambda: 0.0)
        self.heard()
        self.evicted: list[str] = []

    def evict(self, tags) -> None:
        self.evicted.extend(tags)
        super().evict(tags)


def test_any_committed_write_to_a_watched_table_evicts_what_showed_it(rt):
    """Pages tagged with a table need no list of the code paths that write it: the database reports each write."""
    user = accounts.create_user("anna@example.com", "long enough secret")
    log = EvictionLog()
    sessions.start_session(user)  # not watched: sessions change on every sign-in
    assert log.evicted == []

    with rt.db.atomic():
        rt.db.execute_sql('UPDATE "user" SET name = ? WHERE id = ?', ("Анна", user.id))  # raw SQL alike
        assert log.evicted == []  # not before the commit: a reader would store the old row again
    assert log.evicted == [live_cache.table_tag("user")]

    User.update(name="Никто").where(User.id == -1).execute()  # no row changed: nothing to evict
    assert log.evicted == [live_cache.table_tag("user")]
    with pytest.raises(RuntimeError), rt.db.atomic():
        User.update(name="Не сохранится").where(User.id == user.id).execute()
        raise RuntimeError("rolled back")
    assert log.evicted == [live_cache.table_tag("user")]  # nothing changed
    rt.db.execute_sql('DELETE FROM "user" WHERE id = ?', (user.id,))
    assert log.evicted == [live_cache.table_tag("user")] * 2  # outside a transaction: once the statement ran


def test_an_outage_warns_once_that_evictions_go_unannounced(rt, tmp_path, caplog):
    """Every ticket write announces an eviction: with Redis away, one warning per outage, not one per write."""
    caplog.set_level(logging.INFO, logger="engine.live_cache")
    live_cache.publish_with(Redis(unix_socket_path=str(tmp_path / "no-redis.sock")))
    try:
        for _ in range(3):
            live_cache.changed(live_cache.table_tag("ticket"))
        live_cache.publish_with(rt.redis)
        live_cache.changed(live_cache.table_tag("ticket"))
    finally:
        live_cache.publish_with(rt.redis)
    assert caplog.text.count("cache evictions not announced") == 1
    assert "cache evictions announced again" in caplog.text


def test_the_cache_starts_afresh_past_max_keys(monkeypatch):
    monkeypatch.setattr(live_cache, "MAX_KEYS", 2)
    cache = EvictionLog()
    for key in ("a", "b", "c"):
        cache.put(key, key, cache.token())
    assert [cache.get(key) for key in ("a", "b", "c")] == [None, None, "c"]


def test_a_new_publisher_closes_the_previous_one_s_connection(rt):
    """Every runtime a process starts sets the publisher, and every ticket write publishes: a CI run whose test
    processes started a runtime per test ran out of file descriptors (waitress's select() failed past 1,024)."""
    def descriptors() -> int:
        return len(os.listdir("/proc/self/fd"))

    live_cache.changed(live_cache.table_tag("ticket"))
    before = descriptors()
    for _ in range(20):
        live_cache.publish_with(rt.redis)
        live_cache.changed(live_cache.table_tag("ticket"))
    assert descriptors() <= before + 1

"""An in-process cache for what every signed-in page reads (the session's user, the unread count), evicted across
processes through a Redis pub/sub channel instead of a Redis round trip per request.

A write that makes entries stale calls `changed(*tags)` (an entry's key, or a tag it was stored with; a write to a
WATCHED table does so by itself, see `table_tag`): once its transaction commits, the entries with those tags go
from every cache of this process and the tags are published on CHANNEL, where every cache's follower thread hears
them and evicts its own. An entry is trusted only while its
cache's subscription is live (subscribed, and a PING answered within STALE_AFTER): before the first subscription,
while Redis is away or reconnecting, every read goes to the database, and a resubscription starts from an empty
cache, so a message lost with a connection can never keep a revoked session alive. Entries also expire after TTL
seconds (the bound for a publish that failed). A read that raced with an eviction is not stored: `token()` is taken
before the database read and `put` drops the value if anything was evicted since.

The follower thread resubscribes with backoff (1 s doubling to 10 s), logs an outage once, blocks the stop signals
(kept_from_new_threads) and ends when stopped (at the latest at exit) or when its cache is garbage-collected.
"""
from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Callable, Hashable

from redis import Redis
from redis.exceptions import RedisError

from engine.redis_conn import quick_client
from engine.subscriber_threads import WAKE_EVERY, SubscriberThread
from engine.store.db import database, write_listeners

log = logging.getLogger(__name__)

CHANNEL = "helpdesk:cache-evictions"
TTL = 5.0  # seconds an entry lives without an eviction
PING_EVERY = 1.0  # seconds between the follower's PINGs on its subscription ...
STALE_AFTER = 3.0  # ... and how long after the last answer the subscription still counts as live
REDIS_TIMEOUT = 2.0
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 10.0
MAX_KEYS = 50_000  # beyond it (entries of sessions gone idle) the cache starts afresh

EVERYTHING = "*"  # the tag that evicts every entry (erasing a customer touches other users' counts)

_caches: "weakref.WeakSet[LiveCache]" = weakref.WeakSet()
_publisher: list[Redis | None] = [None]  # the process's Redis (start_runtime): where `changed` publishes


def user_tag(user_id: int) -> str:
    """Entries that copy the user's row (their signed-in sessions)."""
    return f"u:{user_id}"


def unread_tag(user_id: int) -> str:
    """The user's unread-notification count."""
    return f"n:{user_id}"


def table_tag(table: str) -> str:
    """Entries that show rows of a WATCHED table: evicted by every committed write to it (engine.store.db reports
    each write statement, whichever code runs it, so no list of code paths can miss one)."""
    return f"w:{table}"


WATCHED = frozenset({"user", "ticket", "message", "attachment", "ticketevent", "slaclock"})


def _table_written(table: str) -> None:
    if table in WATCHED:
        changed(table_tag(table))


write_listeners.append(_table_written)


def publish_with(redis: Redis | None) -> None:
    """Where `changed` publishes from now on (the process's Runtime calls it); with short timeouts and no retries,
    so a sign-out never waits seconds for a Redis that is away. The previous publisher's connection is closed: every
    ticket write publishes, and a process that starts runtimes one after another (the tests) ran out of descriptors."""
    previous = _publisher[0]
    _publisher[0] = quick_client(redis, REDIS_TIMEOUT) if redis is not None else None
    if previous is not None:
        previous.connection_pool.disconnect()


def changed(*tags: str) -> None:
    """Entries with these tags are stale: evicted here and announced to the other processes once the current
    transaction commits (at once outside one), the tags of one transaction in one message (a ticket notifies
    several people). A failed publish is logged: other processes then keep the entry until TTL."""
    transaction = database.top_transaction() if database.obj is not None else None
    batch = getattr(_batch, "pending", None)
    if transaction is not None and batch is not None and batch[0] is transaction:
        batch[1].extend(tags)  # its after-commit call is registered already
        return
    if transaction is None:
        database.after_commit(lambda: _evict_everywhere(tags))
        return
    batch = _batch.pending = (transaction, list(tags))

    def announce():
        if getattr(_batch, "pending", None) is batch:
            _batch.pending = None
        _evict_everywhere(tuple(dict.fromkeys(batch[1])))

    database.after_commit(announce)


# pending: (the transaction, its tags) whose announcement waits for its commit. A rolled-back transaction's entry is
# left behind harmlessly: the next transaction is another object (nothing here rolls back and carries on in one).
_batch = threading.local()


def _evict_everywhere(tags) -> None:
    for cache in list(_caches):
        cache.evict(tags)
    redis = _publisher[0]
    if redis is not None:
        try:
            redis.publish(CHANNEL, " ".join(tags))
        except (RedisError, OSError) as exc:
            if not _unannounced[0]:  # once per outage: every ticket write announces
                log.warning("cache evictions not announced (other processes keep entries up to %g s): %s", TTL, exc)
            _unannounced[0] = True
        else:
            if _unannounced[0]:
                log.info("cache evictions announced again")
            _unannounced[0] = False


_unannounced = [False]  # the last publish failed (its warning was logged)


class LiveCache:
    """Entries by key, each with tags that evict it; `follow(redis)` starts trusting them (see the module)."""

    def __init__(self, ttl: float = TTL, clock: Callable[[], float] = time.monotonic):
        self.ttl, self._clock = ttl, clock
        self._entries: dict[Hashable, tuple[object, float]] = {}
        self._tagged: dict[str, set] = {}  # tag -> keys
        self._epoch = 0  # bumped by every eviction and (re)subscription
        self._live_until = 0.0  # clock time until which the subscription counts as live
        self._lock = threading.Lock()
        self._follower: EvictionFollower | None = None
        _caches.add(self)

    def follow(self, redis: Redis) -> None:
        """Subscribe to the eviction channel in a daemon thread; until it is live, nothing is trusted."""
        if self._follower is None:
            self._follower = EvictionFollower(self, redis)
            self._follower.start()

    def close(self) -> None:
        """Stop following (the thread ends within WAKE_EVERY); nothing is trusted afterwards."""
        self.lost()
        if self._follower is not None:
            self._follower.stop()

    @property
    def live(self) -> bool:
        return self._clock() < self._live_until

    def heard(self) -> None:
        """The subscription answered a PING: entries are trusted for STALE_AFTER seconds more."""
        self._live_until = self._clock() + STALE_AFTER

    def lost(self) -> None:
        """The subscription is gone: nothing is trusted, and what was stored is dropped."""
        with self._lock:
            self._live_until = 0.0
            self._drop_all()

    def token(self) -> int:
        """Take before reading what `put` will store: a value read across an eviction is not stored."""
        return self._epoch

    def get(self, key: Hashable):
        """The value of a fresh entry while the subscription is live, else None (read the database)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self._clock()
        if now >= entry[1] or now >= self._live_until:
            return None
        return entry[0]

    def put(self, key: Hashable, value, token: int, tags: tuple[str, ...] = ()) -> None:
        """Store `value` unless anything was evicted since `token()` or the subscription is not live."""
        with self._lock:
            if token != self._epoch or self._clock() >= self._live_until:
                return
            if len(self._entries) >= MAX_KEYS:  # expired entries of keys nobody asks for again
                self._drop_all()
            self._entries[key] = (value, self._clock() + self.ttl)
            for tag in (key, *tags):
                self._tagged.setdefault(tag, set()).add(key)

    def evict(self, tags) -> None:
        """Drop the entries with any of these tags (a key is its own tag)."""
        with self._lock:
            self._epoch += 1
            if EVERYTHING in tags:
                self._drop_all()
            for tag in tags:
                for key in self._tagged.pop(tag, ()):
                    self._entries.pop(key, None)

    def _drop_all(self) -> None:
        self._epoch += 1
        self._entries.clear()
        self._tagged.clear()


class BoundedGroup:
    """Entries of one kind whose keys clients can make up at will (cursors, pages, minutes): past `limit` stores
    since the group was last dropped, this process drops the group's entries together (an entry is rarely shown
    twice once a write evicted it, so this bounds memory at little cost)."""

    def __init__(self, tag: str, limit: int):
        self.tag, self.limit = tag, limit
        self._stored = 0  # approximate across threads: only a bound

    def put(self, cache: LiveCache, key: Hashable, value, token: int, tags: tuple[str, ...] = ()) -> None:
        """`cache.put` with the group's tag; past the limit the group goes instead (this value too: its token is
        stale then)."""
        self._stored += 1
        if self._stored > self.limit:
            self._stored = 0
            cache.evict((self.tag,))
        else:
            cache.put(key, value, token, (self.tag, *tags))


class EvictionFollower(SubscriberThread):
    """Subscribes its cache to CHANNEL, evicts the tags each message names and keeps the cache live while PINGs
    are answered."""

    def __init__(self, cache: LiveCache, redis: Redis):
        super().__init__(name="cache-evictions")
        self._cache = weakref.ref(cache)
        self._redis = quick_client(redis, REDIS_TIMEOUT)
        self._pubsub = None
        self._down = False

    def run(self) -> None:
        backoff = BACKOFF_FIRST
        while not self._stopped.is_set() and self._cache() is not None:
            try:
                if self._pubsub is None:
                    self._subscribe()
                    backoff = BACKOFF_FIRST
                self._listen()
            except Exception as exc:  # never dies of it
                if not isinstance(exc, (RedisError, OSError)):
                    log.exception("cache evictions: unexpected error from the subscription")
                self._lost(f"cache evictions lost Redis, pages read the database meanwhile: {exc}")
                self._stopped.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
        self._lost(None)

    def _subscribe(self) -> None:
        """Subscribe and wait for Redis to confirm: only messages published after that reach us."""
        self._pubsub = self._redis.pubsub()
        self._pubsub.subscribe(CHANNEL)
        deadline = time.monotonic() + REDIS_TIMEOUT
        while (message := self._pubsub.get_message(timeout=WAKE_EVERY)) is None or message["type"] != "subscribe":
            if time.monotonic() > deadline:
                raise RedisError("no subscription confirmed")
        if self._down:
            self._down = False
            log.info("cache evictions: Redis is back")

    def _listen(self) -> None:
        """Evict what messages name; PING every PING_EVERY and keep the cache live while the answers come."""
        pinged = 0.0
        while not self._stopped.is_set() and self._cache() is not None:
            if time.monotonic() - pinged >= PING_EVERY:
                self._pubsub.ping()
                pinged = time.monotonic()
            message = self._pubsub.get_message(timeout=WAKE_EVERY)
            cache = self._cache()
            if message is None or cache is None:
                continue
            if message["type"] == "pong":
                cache.heard()
            elif message["type"] == "message":
                cache.evict(message["data"].decode().split())

    def _lost(self, warning: str | None) -> None:
        cache = self._cache()
        if cache is not None:
            cache.lost()
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except (RedisError, OSError):
                pass
            self._pubsub = None
        if warning and not self._down:
            self._down = True
            log.warning(warning)


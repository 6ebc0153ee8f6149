"""The thread that keeps a CatalogHolder on the newest stored config version: it subscribes to the Redis channel
where reloads announce each new version and switches as soon as a message arrives; it also polls the database
every `poll_interval` seconds (one primary-key lookup), the fallback while Redis is away or a message was lost.

It never dies of an outage: Redis is resubscribed with backoff (1 s doubling to 10 s), a failed database read is
retried at the next poll, and both are logged once per outage. It blocks the stop signals (kept_from_new_threads)
and ends when stopped (at the latest at exit, before the process's Redis connections are released: a subscription
left open would keep an embedded redis-server running) or when its holder is garbage-collected.
"""
from __future__ import annotations

import logging
import time
import weakref

from peewee import DatabaseError
from redis.exceptions import RedisError

from engine.redis_conn import quick_client
from engine.subscriber_threads import WAKE_EVERY, SubscriberThread

log = logging.getLogger(__name__)

POLL_INTERVAL = 5.0  # seconds between database checks (the fallback; messages switch at once)
POLL_INTERVAL_ENV = "CONFIG_POLL_INTERVAL"
REDIS_TIMEOUT = 2.0  # seconds a subscribe may wait for Redis
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 10.0



def poll_interval_from(env) -> float:
    """`CONFIG_POLL_INTERVAL` seconds (at least 0.1), default 5."""
    try:
        return max(0.1, float(env.get(POLL_INTERVAL_ENV) or POLL_INTERVAL))
    except ValueError:
        return POLL_INTERVAL


class VersionFollower(SubscriberThread):
    """Calls `holder.follow_latest()` on every announced version and every `poll_interval` seconds."""

    def __init__(self, holder, redis, channel: str, poll_interval: float = POLL_INTERVAL):
        super().__init__(name="config-follower")
        self._holder = weakref.ref(holder)
        self._redis = quick_client(redis, REDIS_TIMEOUT) if redis is not None else None
        self._channel = channel
        self.poll_interval = poll_interval
        self._pubsub = None
        self._failing: set[str] = set()  # "redis", "database": outages already logged

    def run(self) -> None:
        backoff, retry_redis_at, next_poll = BACKOFF_FIRST, 0.0, 0.0
        while not self._stopped.is_set():
            now = time.monotonic()
            if now >= next_poll:
                if not self._check():
                    break
                next_poll = time.monotonic() + self.poll_interval
                continue
            if self._redis is None or (self._pubsub is None and now < retry_redis_at):
                until = next_poll if self._redis is None else min(next_poll, retry_redis_at)
                self._stopped.wait(min(WAKE_EVERY, until - now))
                continue
            try:
                if self._pubsub is None:
                    self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                    self._pubsub.subscribe(self._channel)
                    self._recovered("redis")
                    backoff, next_poll = BACKOFF_FIRST, 0.0  # a version stored while we were not listening
                    continue
                message = self._pubsub.get_message(timeout=min(WAKE_EVERY, next_poll - now))
            except Exception as exc:  # never dies of it
                if not isinstance(exc, (RedisError, OSError)):
                    log.exception("config follower: unexpected error from the subscription")
                self._failed("redis", f"config follower lost Redis, polling the database meanwhile: {exc}")
                self._pubsub = self._close(self._pubsub)
                retry_redis_at, backoff = time.monotonic() + backoff, min(backoff * 2, BACKOFF_MAX)
                continue
            if message is not None and message.get("type") == "message":
                next_poll = 0.0  # check now
            elif self._holder() is None:
                break
        self._pubsub = self._close(self._pubsub)

    def _check(self) -> bool:
        """Follow the newest version; False when the holder is gone."""
        holder = self._holder()
        if holder is None:
            return False
        try:
            holder.follow_latest()
            self._recovered("database")
        except DatabaseError as exc:
            self._failed("database", f"config follower cannot read config versions: {exc}")
        except Exception:
            log.exception("config follower: unexpected error, retrying at the next poll")
        return True

    def _failed(self, what: str, message: str) -> None:
        if what not in self._failing:
            self._failing.add(what)
            log.warning(message)

    def _recovered(self, what: str) -> None:
        if what in self._failing:
            self._failing.discard(what)
            log.info("config follower: %s is back", what)

    @staticmethod
    def _close(pubsub) -> None:
        if pubsub is not None:
            try:
                pubsub.close()
            except (RedisError, OSError):
                pass
        return None

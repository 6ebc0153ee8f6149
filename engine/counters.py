"""Event counters shared by every process (web, workers, bots, CLI), kept in one Redis hash.

A ticket is created in a web process or a bot, a delivery is attempted in a worker, a reload runs in the CLI: none
but the web processes serve `/metrics`, so events are counted where they happen into Redis and any web process
exports them (`engine.metrics`). Counting is best effort: with Redis unreachable the increment is dropped (logged
once per outage) and never slows the caller by more than QUICK_TIMEOUT. A Redis that restarts empty resets the
counters, which Prometheus reads as a counter reset.
"""
from __future__ import annotations

import logging
import threading
import time
import weakref

from redis import Redis
from redis.exceptions import RedisError

from engine.redis_conn import quick_client

log = logging.getLogger(__name__)

KEY = "helpdesk:metrics:counters"
QUICK_TIMEOUT = 0.5  # seconds an increment may wait for Redis
OUTAGE_PAUSE = 5.0  # seconds increments are skipped after a failure (instead of each caller paying the timeout)
SEPARATOR = "|"

# name -> (help text, label names); the Prometheus counter is `helpdesk_<name>_total`.
COUNTERS = {
    "tickets_created": ("Tickets created, by the channel they came from (web, telegram, api).", ("channel",)),
    "delivery_attempts": ("Delivery attempts by channel and outcome: sent, failed, skipped (channel not configured), "
                          "retry (a temporary error), postponed (rate limit).", ("channel", "outcome")),
    "config_reloads": ("Config reloads (admin page, `run.py config reload`) by result: ok or failed.", ("result",)),
}


class _Target:
    """Per Redis server this process counts into: a short-timeout client, and when to try again after a failure."""

    def __init__(self, redis: Redis):
        self.client = quick_client(redis, QUICK_TIMEOUT)
        self.down_until = 0.0
        self.failing = False

    def incr(self, name: str, hash_field: str, amount: int) -> None:
        if time.monotonic() < self.down_until:
            return
        try:
            self.client.hincrby(KEY, hash_field, amount)
        except RedisError as exc:
            if not self.failing:
                log.warning("event counters are not recorded while Redis is unavailable (logged once per outage): %s", exc)
            self.failing, self.down_until = True, time.monotonic() + OUTAGE_PAUSE
            return
        self.failing = False


_targets: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # connection pool -> _Target
_targets_lock = threading.Lock()


def _target(redis: Redis) -> _Target:
    pool = redis.connection_pool
    with _targets_lock:
        target = _targets.get(pool)
        if target is None:
            target = _targets[pool] = _Target(redis)
        return target


def field(name: str, labels: dict[str, str]) -> str:
    """The hash field of one series: the counter's name and its label values in declared order."""
    names = COUNTERS[name][1]
    return SEPARATOR.join([name, *(str(labels[n]).replace(SEPARATOR, "_") for n in names)])


def parse_field(raw: str) -> tuple[str, dict[str, str]] | None:
    """(counter name, labels) of a hash field, or None for a field this version does not know."""
    name, *values = raw.split(SEPARATOR)
    spec = COUNTERS.get(name)
    if spec is None or len(values) != len(spec[1]):
        return None
    return name, dict(zip(spec[1], values))


def count(redis: Redis | None, name: str, amount: int = 1, **labels: str) -> None:
    """Add `amount` to the shared counter `name` with `labels`; never raises for Redis trouble."""
    if redis is not None:
        _target(redis).incr(name, field(name, labels), amount)


def count_in(pipe, name: str, amount: int = 1, **labels: str) -> None:
    """`count`, as a command of the caller's Redis pipeline (which saves the increment its own round trip)."""
    pipe.hincrby(KEY, field(name, labels), amount)


def read_all(redis: Redis) -> dict[str, list[tuple[dict[str, str], int]]]:
    """{counter name: [(labels, value)]} for every known series; raises RedisError."""
    found: dict[str, list[tuple[dict[str, str], int]]] = {name: [] for name in COUNTERS}
    for raw_field, raw_value in redis.hgetall(KEY).items():
        parsed = parse_field(raw_field.decode() if isinstance(raw_field, bytes) else raw_field)
        if parsed is not None:
            found[parsed[0]].append((parsed[1], int(raw_value)))
    return found

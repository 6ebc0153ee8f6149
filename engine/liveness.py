"""Process liveness in Redis: every long-running process (web, worker, bot) writes a heartbeat key that expires.

Each process beats every `HEARTBEAT_INTERVAL` seconds (default 10) into `helpdesk:process:<id>`, a JSON record
(role, host, pid, config version, started at, last beat, detail) that expires after three intervals; a sorted set
indexes the ids so listing never scans the keyspace. A clean stop deletes the key; a killed process's key expires.
The beating thread rides out Redis outages: the first failure is logged, the recovery too, nothing in between.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Callable

from redis import Redis
from redis.exceptions import RedisError

from engine.redis_conn import quick_client
from engine.stop_signals import kept_from_new_threads

log = logging.getLogger(__name__)

KEY_PREFIX = "helpdesk:process:"
INDEX_KEY = "helpdesk:processes"  # sorted set: process id -> last beat (unix time); the keys are the truth
INTERVAL_ENV = "HEARTBEAT_INTERVAL"
DEFAULT_INTERVAL = 10.0  # seconds between beats
TTL_BEATS = 3  # a key outlives two missed beats
REDIS_TIMEOUT = 2.0  # seconds a beat may wait for Redis: an outage must not stall the thread (or a stop)
STALE_INDEX_AFTER = 24 * 3600  # seconds: index entries older than this are dropped whatever their key says


@dataclass(frozen=True)
class ProcessInfo:
    """One live process as its last heartbeat described it."""

    id: str
    role: str
    host: str
    pid: int
    version: str
    started_at: datetime
    last_beat: datetime
    detail: str = ""

    def to_json(self) -> str:
        data = asdict(self)
        data["started_at"], data["last_beat"] = self.started_at.timestamp(), self.last_beat.timestamp()
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: bytes | str) -> "ProcessInfo":
        data = json.loads(raw)
        for key in ("started_at", "last_beat"):
            data[key] = datetime.fromtimestamp(float(data[key]), timezone.utc)
        return cls(**data)

    def age(self, now: datetime | None = None) -> float:
        """Seconds since the last beat (by this host's clock)."""
        return max(0.0, ((now or datetime.now(timezone.utc)) - self.last_beat).total_seconds())


def interval_from(env) -> float:
    """The beat interval from `HEARTBEAT_INTERVAL` (seconds, at least 0.1), default 10."""
    try:
        return max(0.1, float(env.get(INTERVAL_ENV) or DEFAULT_INTERVAL))
    except ValueError:
        return DEFAULT_INTERVAL


class Heartbeat(threading.Thread):
    """Writes this process's liveness key every `interval` seconds until stopped; Redis errors are never fatal."""

    def __init__(self, redis: Redis, role: str, version: Callable[[], str], detail: str = "",
                 interval: float = DEFAULT_INTERVAL):
        super().__init__(name="helpdesk-heartbeat", daemon=True)
        self.redis = redis
        self.role = role
        self.version = version
        self.detail = detail
        self.interval = interval
        self.ttl = max(1, int(round(interval * TTL_BEATS)))
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.id = f"{self.host}:{self.pid}:{secrets.token_hex(3)}"  # pids repeat across containers and restarts
        self.key = KEY_PREFIX + self.id
        self.started_at = datetime.now(timezone.utc)
        self.stopped = threading.Event()
        self._failing = False

    def info(self) -> ProcessInfo:
        return ProcessInfo(id=self.id, role=self.role, host=self.host, pid=self.pid, version=self._version(),
                           started_at=self.started_at, last_beat=datetime.now(timezone.utc), detail=self.detail)

    def _version(self) -> str:
        try:
            return self.version()
        except Exception:  # a catalog that cannot be read must not stop the beat that says the process lives
            return "?"

    def beat(self) -> bool:
        """Write the key (and its index entry) once; True when Redis took it."""
        info = self.info()
        try:
            with self.redis.pipeline() as pipe:
                pipe.set(self.key, info.to_json(), ex=self.ttl)
                pipe.zadd(INDEX_KEY, {self.id: info.last_beat.timestamp()})
                pipe.execute()
        except RedisError as exc:
            if not self._failing:
                log.warning("liveness heartbeat failed (retrying every %g s, logged once per outage): %s", self.interval, exc)
            self._failing = True
            return False
        if self._failing:
            log.info("liveness heartbeat restored")
        self._failing = False
        return True

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.beat()

    def stop(self) -> None:
        """Stop beating and delete the key, so the process leaves the list at once (best effort without Redis)."""
        if self.stopped.is_set():
            return
        self.stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(REDIS_TIMEOUT * 2)
        try:
            with self.redis.pipeline() as pipe:
                pipe.delete(self.key)
                pipe.zrem(INDEX_KEY, self.id)
                pipe.execute()
        except RedisError:
            pass  # the key expires by itself
        finally:
            # An embedded Redis stops only when its last client is gone: close ours now, not at interpreter exit.
            self.redis.connection_pool.disconnect()


def start_heartbeat(rt, role: str, detail: str = "") -> Heartbeat:
    """Announce this process in Redis now and keep it announced until exit (a clean exit removes it)."""
    heartbeat = Heartbeat(quick_client(rt.redis, REDIS_TIMEOUT), role, lambda: rt.catalog.version, detail,
                          interval=interval_from(rt.settings.env))
    heartbeat.beat()
    with kept_from_new_threads():  # a stop signal must reach the main thread (engine.stop_signals)
        heartbeat.start()
    atexit.register(heartbeat.stop)  # registered after the Redis connection's own exit hook, so it runs first
    return heartbeat


def live_processes(redis: Redis) -> list[ProcessInfo]:
    """Every process whose heartbeat key exists, by role, host and pid; raises RedisError when Redis is down."""
    redis.zremrangebyscore(INDEX_KEY, "-inf", time.time() - STALE_INDEX_AFTER)
    ids = [raw.decode() if isinstance(raw, bytes) else raw for raw in redis.zrange(INDEX_KEY, 0, -1)]
    if not ids:
        return []
    found, gone = [], []
    for process_id, raw in zip(ids, redis.mget([KEY_PREFIX + i for i in ids])):
        if raw is None:
            gone.append(process_id)  # expired: the process died or lost Redis for longer than its TTL
            continue
        try:
            found.append(ProcessInfo.from_json(raw))
        except (ValueError, TypeError, KeyError):
            log.warning("unreadable liveness record %s", process_id)
    if gone:
        redis.zrem(INDEX_KEY, *gone)
    return sorted(found, key=lambda p: (p.role, p.host, p.pid))

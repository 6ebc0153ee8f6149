"""The worker's sweeper thread: `engine.sweeper.sweep` every policies.delivery.sweep_every, one worker at a time."""
from __future__ import annotations

import logging
import threading

from redis.exceptions import RedisError

from engine.catalog.durations import parse_duration
from engine.sweeper import sweep

log = logging.getLogger(__name__)

SLICE = 5000  # outbox rows one periodic sweep looks at; a backlog is walked a slice per interval
LOCK_KEY = "helpdesk:sweep-lock"


def _take_turn(rt, seconds: float) -> bool:
    """One sweep per interval across all workers (a Redis lock); with Redis down, sweep anyway: it is idempotent."""
    try:
        return bool(rt.redis.set(LOCK_KEY, "1", nx=True, px=max(1, int(seconds * 1000 * 0.9))))
    except RedisError:
        return True


STARTUP_DELAY = 1.0  # seconds before the first sweep
STOP_WAIT = 2.0  # seconds a stop waits for a sweep in progress


class SweeperThread(threading.Thread):
    """Runs `sweep` every policies.delivery.sweep_every seconds until stopped; errors are logged, never fatal."""

    def __init__(self, rt, interval: float | None = None):
        super().__init__(name="helpdesk-sweeper", daemon=True)
        self.rt = rt
        self.interval = interval
        self.cursor = 0
        self.stopped = threading.Event()

    def current_interval(self) -> float:
        if self.interval is not None:
            return self.interval
        return parse_duration(self.rt.catalog.policies.delivery.sweep_every).total_seconds()

    def run(self) -> None:
        # Let RQ fork its scheduler process first: a fork while this thread holds a lock (logging, peewee,
        # SQLite) can leave the child deadlocked, and the worker then hangs joining it at shutdown.
        if self.stopped.wait(STARTUP_DELAY):
            return
        while not self.stopped.is_set():
            interval = self.current_interval()
            try:
                if _take_turn(self.rt, interval):
                    report = sweep(self.rt, start_after=self.cursor, limit=SLICE)
                    self.cursor = report.resume_after
                    if report.deliveries or report.timers or report.sessions:
                        log.info("sweep: %s", report)
            except Exception:  # the next sweep tries again; a crashed thread would silently stop all recovery
                log.exception("sweep failed")
            finally:
                self.rt.db.close()
            self.stopped.wait(interval)

    def stop(self, timeout: float = STOP_WAIT) -> None:
        """Ask the thread to stop and wait for a sweep in progress (it would reconnect to Redis after the
        process closed its connections, and keep an embedded server it should stop alive)."""
        self.stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

"""`run.py worker`: an RQ worker with its scheduler, the installed channels' senders and the periodic database sweep."""
from __future__ import annotations

import argparse
import ctypes
import importlib
import logging
import os
import signal
import sys
import time

from redis.exceptions import RedisError
from rq import SimpleWorker, Worker
from rq.worker import WorkerStatus
from rq.exceptions import StopRequested

from app.sweeper import SweeperThread
from engine import jobs
from engine.channel_setup import report_unconfigured
from engine.delivery import short_leases
from engine.liveness import start_heartbeat
from engine.logformat import request_id
from engine.runtime import start_runtime
from engine.settings import from_env
from engine.stop_signals import PENDING_STOP, PendingStop, kept_from_new_threads
from engine.sweeper import sweep

log = logging.getLogger(__name__)
MAX_RESTART_PAUSE = 10.0
SCHEDULER_STOP_TIMEOUT = 1.0  # seconds: its locks expire by themselves, so it may be killed
# RQ's command listener blocks this long per read; redis-py 8.2's PubSubWorkerThread.stop() joins it, so
# RQ's 60 s made a stopping worker wait up to a minute.
PUBSUB_POLL = 0.5  # seconds
LISTENER_STOP_WAIT = 4 * PUBSUB_POLL  # seconds a stopping worker waits for that listener to notice
# A stop that finds a job running waits this long for it, then stops cold: the job's delivery keeps its lease
# and is claimed again when the lease runs out.
BUSY_STOP_GRACE = 2.5  # seconds
# How often an idle worker wakes from its queue read to run RQ's maintenance, where a worker without a running
# scheduler takes the scheduler lock a dead one left (RQ's defaults: a 405 s read and a 600 s interval).
SCHEDULER_TAKEOVER = 5  # seconds
PR_SET_PDEATHSIG = 1  # linux/prctl.h
_forking_pid = 0  # the pid of the process that last forked (a fork hook's parent)


def load_extra_modules(extra: tuple[str, ...]) -> None:
    """Import `extra` modules (e.g. a test's sender replacing one with register_sender) after run.py registered the
    installed channels."""
    for name in extra:
        importlib.import_module(name)


def _default_signals_in_children() -> None:
    """RQ's scheduler child must not inherit PENDING_STOP: a stop sent before it installs its own handlers would
    be remembered there and ignored, and the worker would wait for the child forever. And it must not outlive the
    worker: a SIGKILLed worker's scheduler kept running for minutes holding the scheduler lock."""
    if not getattr(_default_signals_in_children, "done", False):
        os.register_at_fork(before=_remember_forking_pid, after_in_child=_child_of_the_worker)
        _default_signals_in_children.done = True


def _remember_forking_pid() -> None:
    global _forking_pid
    _forking_pid = os.getpid()


def _child_of_the_worker() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    die_with_parent(_forking_pid)


def die_with_parent(parent_pid: int, signum: int = signal.SIGTERM) -> None:
    """Have the kernel send `signum` to this process when its parent dies (Linux prctl PR_SET_PDEATHSIG). RQ's
    scheduler stops on SIGTERM at its next tick and releases its lock, so a live worker takes it over."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the lock still expires by its TTL
        return
    if os.getppid() != parent_pid:  # the parent died before the request was in place
        os.kill(os.getpid(), signum)


def listening_class(base: type[Worker], early: PendingStop) -> type[Worker]:
    """`base` that hands a stop signal remembered by `early` to RQ's warm shutdown as soon as RQ listens (one
    landing inside RQ's fork of its scheduler, where an exception raised by a handler is swallowed, would be lost)."""

    class HelpdeskWorker(base):
        max_connection_wait_time = SCHEDULER_TAKEOVER  # RQ's reconnect backoff cap (60 s) bounds a lost stop too

        @property
        def dequeue_timeout(self) -> int:
            return SCHEDULER_TAKEOVER

        def subscribe(self):
            """RQ's subscription to its command channel, with a listener that notices a stop within PUBSUB_POLL."""
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            with kept_from_new_threads():
                self.pubsub_thread = self.pubsub.run_in_thread(
                    sleep_time=PUBSUB_POLL, daemon=True, exception_handler=self._pubsub_exception_handler
                )

        def unsubscribe(self):
            """Stop RQ's command listener without waiting: while Redis is away it sits in reconnect backoff for
            seconds (RQ joins it); it closes its own connection when it notices, or the process exit does."""
            if self.pubsub_thread:
                _stop_listener(self.pubsub_thread)

        def perform_job(self, job, queue):
            """Run the job under the request id that enqueued it: its log lines (and jobs it enqueues) carry it."""
            token = request_id.set((job.meta or {}).get("request_id"))
            try:
                return super().perform_job(job, queue)
            finally:
                request_id.reset(token)

        def _install_signal_handlers(self):
            super()._install_signal_handlers()
            if early.signum is not None:
                self.request_stop(early.signum, None)  # idle: stops the scheduler, raises StopRequested

        def _shutdown(self):
            self._stop_requested = True  # RQ sets it only for a busy worker; see heartbeat
            if self.get_state() == WorkerStatus.BUSY:  # RQ would wait for the job however long it takes
                signal.signal(signal.SIGALRM, self._stop_cold)
                signal.setitimer(signal.ITIMER_REAL, BUSY_STOP_GRACE)  # armed first: stopping the scheduler takes time too
            super()._shutdown()

        def heartbeat(self, timeout=None, pipeline=None):
            """RQ's read loop calls this (without arguments) first on every round: before each queue read and after
            each failed connection, where its retry loop stays while Redis is down. An idle worker stops by the
            StopRequested its signal handler raises, but a handler that runs inside a `__del__` (a garbage-collected
            redis-py parser or connection, seen in CI runs) has its exception ignored; the flag ends the loop here,
            at the next read or reconnect, within SCHEDULER_TAKEOVER. A job's heartbeats pass a pipeline."""
            if self._stop_requested and pipeline is None and self.get_state() != WorkerStatus.BUSY:
                raise StopRequested()
            return super().heartbeat(timeout, pipeline)

        def _stop_cold(self, signum, frame):
            log.warning("a job is still running %.0f s after the stop request; stopping without it", BUSY_STOP_GRACE)
            if self.horse_pid:
                self.kill_horse()
                self.wait_for_horse()
            raise SystemExit(0)

        def stop_scheduler(self):
            """RQ's version waits forever for a scheduler child that missed its SIGTERM (sent while it was
            still starting); give it a few seconds, then kill it (its Redis locks expire by themselves)."""
            process = self.scheduler._process if self.scheduler else None
            if process is None or not process.pid:
                return
            process.terminate()
            process.join(SCHEDULER_STOP_TIMEOUT)
            if process.is_alive():
                process.kill()
                process.join()

    return HelpdeskWorker


def _stop_listener(thread) -> None:
    """Ask a redis-py PubSubWorkerThread to stop, without joining it (a daemon thread)."""
    try:
        thread.stop(timeout=0)
    except TypeError:  # redis-py before 8.2: stop() only clears the flag
        thread.stop()


def _retire(worker: Worker) -> None:
    """Stop what a dead RQ worker left running: its command listener would retry Redis forever, and a scheduler
    child still alive would hold its lock and make multiprocessing wait for it at exit."""
    if worker.pubsub_thread:
        _stop_listener(worker.pubsub_thread)
    if worker.scheduler is not None:
        worker.stop_scheduler()


def _wind_down(worker: Worker) -> None:
    """However the worker ended: a scheduler child left running would make multiprocessing wait at exit, and a
    command listener still polling would reconnect after the exit hook closed this process's connections, so an
    embedded server would see a client left and keep running (seen for `worker --burst` on a loaded machine)."""
    _retire(worker)
    if worker.pubsub_thread is not None:
        worker.pubsub_thread.join(LISTENER_STOP_WAIT)


def run_worker(rt, *, burst: bool = False, fork: bool = False, sweep_every: float | None = None,
               extra_modules: tuple[str, ...] = (), name: str | None = None) -> bool:
    """Work the helpdesk queue (scheduler included) with a sweeper thread beside it; in burst: sweep once, drain, exit."""
    load_extra_modules(extra_modules)
    jobs.bind_runtime(rt)
    early = PENDING_STOP  # remembers a stop since run.py started; RQ takes over when it listens
    early.install()
    _default_signals_in_children()
    # Jobs run in the worker process by default: a work horse forked while the sweeper thread holds
    # SQLite's or peewee's locks can hang for good (SQLite connections are not fork-safe).
    worker_class = listening_class(Worker if fork else SimpleWorker, early)
    if burst:
        worker = worker_class([rt.queue], connection=rt.redis, name=name, maintenance_interval=SCHEDULER_TAKEOVER)
        sweep(rt)  # a burst run (e.g. from cron) first enqueues what the database says is due, then drains it
        try:
            return worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
        except StopRequested:
            return True
        finally:
            _wind_down(worker)
            if worker.scheduler is not None:  # in burst it ran here, on a pool of its own that nothing else closes
                worker.scheduler.connection.connection_pool.disconnect()
    sweeper = SweeperThread(rt, interval=sweep_every)
    with kept_from_new_threads():
        sweeper.start()
    worker: Worker | None = None
    pause = 1.0
    try:
        while True:
            try:
                # RQ's constructor already talks to Redis (CLIENT SETNAME): build it where a lost Redis is caught.
                worker = worker_class([rt.queue], connection=rt.redis, name=name if worker is None else None,
                                      maintenance_interval=SCHEDULER_TAKEOVER)
                worker.work(with_scheduler=True, logging_level="WARNING")
                signal.setitimer(signal.ITIMER_REAL, 0)  # the job ended in its grace time: no cold stop
                if worker._shutdown_requested_date is not None:  # SIGTERM/SIGINT asked for this warm shutdown
                    return True
                reason = "the worker quit on an error"  # RQ logs it and returns, e.g. Redis lost mid-job
            except StopRequested:  # a signal that came before RQ listened
                return True
            except RedisError as exc:
                reason = f"Redis lost ({exc})"
            early.install()  # RQ's handlers belong to the dead worker
            if worker is not None and worker._shutdown_requested_date is not None:
                return True  # a stop asked for while Redis was failing (RQ's teardown then raised)
            log.error("%s; restarting it in %.0f s", reason, pause)
            if worker is not None:
                _retire(worker)
            time.sleep(pause)
            if early.signum is not None:
                return True
            pause = min(pause * 2, MAX_RESTART_PAUSE)
    finally:
        sweeper.stop()
        if worker is not None:
            _wind_down(worker)


def _worker_command(args: argparse.Namespace) -> int:
    settings = from_env()
    if args.fork and not settings.database_url.startswith("postgres"):
        print("error: --fork needs PostgreSQL (DATABASE_URL); SQLite connections do not survive a fork", file=sys.stderr)
        return 2
    rt = start_runtime(settings)
    report_unconfigured(rt.catalog, settings.env)
    for warning in short_leases(rt.catalog.policies):
        log.warning(warning)
    start_heartbeat(rt, "worker")  # listed on the admin page while it runs
    run_worker(rt, burst=args.burst, fork=args.fork, sweep_every=args.sweep_every, extra_modules=tuple(args.load))
    return 0


def register(subparsers) -> None:
    worker = subparsers.add_parser("worker", help="run an RQ worker: deliveries, timeouts, periodic sweep")
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker.add_argument("--fork", action="store_true",
                        help="fork a work horse per job, isolating crashes (PostgreSQL only)")
    worker.add_argument("--sweep-every", type=float, default=None, metavar="SECONDS",
                        help="sweep interval (default: policies.delivery.sweep_every)")
    worker.add_argument("--load", action="append", default=[], metavar="MODULE",
                        help="import an extra module after the channels are registered, e.g. one replacing a sender (repeatable)")
    worker.set_defaults(func=_worker_command, handles_stop=True)

"""Putting work on the RQ queue: job ids, enqueues and delayed jobs; nothing else enqueues raw work.

The functions RQ runs (`engine.jobs`, `engine.timer_kinds.fire_timer`) are named here by dotted path, so enqueueing
never imports them (they import the domain, which enqueues).
"""
from __future__ import annotations

import calendar
import logging
import math
import time
from datetime import datetime, timedelta
from typing import Callable

from redis.client import Pipeline
from redis.exceptions import RedisError
from rq import Queue
from rq.job import JobStatus
from rq.registry import ScheduledJobRegistry
from rq.utils import str_to_date

from engine.logformat import request_id

log = logging.getLogger(__name__)

DELIVER = "engine.jobs.deliver"
FIRE_TIMER = "engine.timer_kinds.fire_timer"  # beside the list of timer kinds it fires

# Job states in which a job id is already on its way; anything else (finished, failed, lost) may be enqueued again.
_LIVE_STATES = {b"queued", b"scheduled", b"started", b"deferred"}
FAILURE_TTL = 7 * 24 * 3600
# A finished job is kept this long. Two callers may enqueue the same job id at once (a request and the sweep both
# find it absent); two workers then run it, and with the job deleted on success (result_ttl=0) the slower one failed
# in RQ's own bookkeeping ("Failed to retrieve status") although the delivery's claim had made its run a no-op.
RESULT_TTL = 60
# After a Redis error, enqueues are skipped for this long (the sweeper catches up) instead of every request paying
# redis-py's reconnect backoff (seconds) during an outage.
OUTAGE_PAUSE = 5.0
SCHEDULER_GRACE = timedelta(seconds=10)  # RQ's scheduler moves due jobs every second; this late means none is running
# A worker claims a delivery right after dequeuing its job: a job `started` this long ago whose row is still
# unclaimed lost its worker (SIGKILL between the two), and RQ would keep it `started` until its timeout ran out.
CLAIM_GRACE = timedelta(seconds=10)
_state = {}  # "redis_down_until": monotonic time until which enqueues are skipped


def _redis_resting() -> bool:
    return time.monotonic() < _state.get("redis_down_until", 0.0)


def _outage(what: str, exc: Exception) -> None:
    _state["redis_down_until"] = time.monotonic() + OUTAGE_PAUSE
    log.warning("Redis unavailable, %s left for the sweeper: %s", what, exc)


def _meta() -> dict | None:
    """The job's meta: the id of the request (or of the job) enqueueing it, so the worker logs the job under it."""
    current = request_id.get()
    return {"request_id": current} if current else None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _not_before(moment: datetime) -> datetime:
    """RQ's scheduler stores whole seconds (truncated): round up so a job never runs before its row is due."""
    return moment if moment.microsecond == 0 else moment.replace(microsecond=0) + timedelta(seconds=1)


def delivery_job_id(row) -> str:
    """One id per (row, attempt, due time): re-enqueueing the same state is a no-op, a new state a new job."""
    return f"deliver-{row.id}-{row.attempts}-{_ms(row.next_attempt_at)}"


def _statuses(rt, job_ids: list[str], along: Callable[[Pipeline], object] | None = None) -> list[bytes | None]:
    pipe = rt.redis.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hget(f"rq:job:{job_id}", "status")
    if along is not None:
        along(pipe)
    return pipe.execute()[:len(job_ids)]


def _started_at(rt, job_id: str) -> datetime | None:
    raw = rt.redis.hget(f"rq:job:{job_id}", "started_at")
    return str_to_date(raw) if raw else None


def _on_its_way(rt, row, job_id: str, status: bytes | None, now: datetime) -> bool:
    """Whether the job enqueued for the row's current state will still run: not a `scheduled` job no scheduler
    moved, nor a `started` job whose worker died before claiming the row."""
    if status not in _LIVE_STATES:
        return False
    if status == b"scheduled":
        return row.next_attempt_at >= now - SCHEDULER_GRACE
    if status == b"started":  # the job id names the row's state: a claim would have changed it
        started = _started_at(rt, job_id)
        return started is None or started >= now - CLAIM_GRACE
    return True


def enqueue_delivery_rows(rt, rows, now: datetime | None = None) -> int:
    """Enqueue deliver jobs for outbox rows (due now, or at their next_attempt_at); returns how many; never raises on Redis errors."""
    return enqueue_jobs(rt, rows, (), now)


def enqueue_jobs(rt, rows=(), timers=(), now: datetime | None = None,
                 along: Callable[[Pipeline], object] | None = None) -> int:
    """Enqueue deliver jobs for outbox rows (due now, or at their next_attempt_at) and the exact-time job of each timer,
    skipping job ids already on their way, in two Redis round trips (the jobs' states, then one pipeline); returns how
    many deliveries; never raises on Redis errors (the sweep catches up). `along` adds its commands to the first round
    trip (an event counter), dropped with it when Redis is down."""
    rows, timers = list(rows), list(timers)
    if not (rows or timers or along) or _redis_resting():
        return 0
    now = now or rt.clock()
    try:
        row_ids, timer_ids = [delivery_job_id(row) for row in rows], [timer_job_id(timer) for timer in timers]
        statuses = _statuses(rt, row_ids + timer_ids, along)
        due, later = [], []
        for row, job_id, status in zip(rows, row_ids, statuses):
            if _on_its_way(rt, row, job_id, status, now):
                continue
            (due if row.next_attempt_at <= now else later).append((row, job_id))
        timers_off = [(timer, job_id) for timer, job_id, status in zip(timers, timer_ids, statuses[len(rows):])
                      if status not in _LIVE_STATES]
        if due or later or timers_off:
            with rt.redis.pipeline() as pipe:
                if due:
                    rt.queue.enqueue_many([_job_data(row, job_id) for row, job_id in due], pipeline=pipe)
                for row, job_id in later:
                    _enqueue_at(rt, pipe, row.next_attempt_at, DELIVER, row.id, job_id)
                for timer, job_id in timers_off:
                    _enqueue_at(rt, pipe, timer.due_at, FIRE_TIMER, timer.id, job_id)
                pipe.execute()
        return len(due) + len(later)
    except RedisError as exc:
        _outage(" and ".join(f"{n} {what}" for n, what in ((len(rows), "deliveries"), (len(timers), "timers")) if n), exc)
        return 0


def _enqueue_at(rt, pipe, moment: datetime, function: str, row_id: int, job_id: str) -> None:
    """`Queue.enqueue_at` with every command in `pipe`: RQ's own sends the scheduled registry's ZADD on the queue's
    connection, a round trip per job outside the pipeline's transaction. The same steps as its `schedule_job`."""
    queue, moment = rt.queue, _not_before(moment)
    job = queue.create_job(function, args=(row_id,), job_id=job_id, result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                           meta=_meta(), status=JobStatus.SCHEDULED)
    pipe.sadd(queue.redis_queues_keys, queue.key)
    job.set_status(JobStatus.SCHEDULED, pipeline=pipe)
    job.save(pipeline=pipe)
    job.cleanup(ttl=job.ttl, pipeline=pipe)
    pipe.zadd(ScheduledJobRegistry(queue=queue).key, {job.id: calendar.timegm(moment.utctimetuple())})


def _job_data(row, job_id: str):
    return Queue.prepare_data(DELIVER, (row.id,), job_id=job_id, result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, meta=_meta())


def timer_job_id(timer) -> str:
    """One job per timer row (a rescheduled deadline is a new row): `<kind>-<timer id>`."""
    return f"{timer.kind}-{timer.id}"


def enqueue_timers(rt, timers) -> None:
    """After commit of the change that scheduled them: an exact-time RQ job per timer (the sweep covers Redis loss)."""
    enqueue_jobs(rt, (), timers)


def enqueue_call(rt, function: str, *args, delay: float = 0) -> bool:
    """Run the job `function` (dotted path) with `args` now or `delay` seconds from now; False when Redis is down
    (logged: the caller keeps what it must not lose)."""
    if _redis_resting():
        return False
    try:
        options = {"result_ttl": RESULT_TTL, "failure_ttl": FAILURE_TTL}
        if delay > 0:
            rt.queue.enqueue_in(timedelta(seconds=math.ceil(delay)), function, *args, **options)
        else:
            rt.queue.enqueue(function, *args, **options)
        return True
    except RedisError as exc:
        _outage(f"job {function}", exc)
        return False

"""Timers as data: one table of ticket deadlines, and a registry of kinds whose handlers act when one comes due.

A timer is scheduled inside the transaction that decides it (a staff reply schedules the auto-close), cancelled the
same way (a customer reply), and fired once: by the exact-time RQ job `engine.timer_kinds.fire_timer`, or by the
periodic sweep when Redis lost that job. Both go through `TimerKinds.fire`, which claims the row with a conditional
UPDATE, so a second firing, or one racing a cancel, does nothing. This module knows no kind: `engine.timer_kinds`
lists them.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from peewee import InterfaceError, OperationalError

from engine.store.models import Ticket, Timer
from engine.store.prepared import create

log = logging.getLogger(__name__)

PENDING, FIRED, CANCELLED, FAILED = "pending", "fired", "cancelled", "failed"
MAX_ATTEMPTS = 5  # a handler that raised this many times leaves its timer `failed` instead of retrying forever
BATCH = 500  # due timers read per query


@dataclass(frozen=True)
class Fired:
    """What a handler did: `acted` (False: the ticket had moved on), and `after_commit`, run once the firing
    transaction committed (e.g. enqueue the notifications it wrote)."""

    acted: bool = True
    after_commit: Callable[[], object] | None = None


NOTHING = Fired(acted=False)


@dataclass(frozen=True)
class TimerKind:
    """A kind of timer: its name (stored in Timer.kind) and `fire(rt, timer, now) -> Fired`.

    `fire` runs inside the transaction that claimed the timer, after its ticket's row was locked, so it runs at
    most once per timer; it still checks the ticket's state (conditional updates), which may have moved on."""

    name: str
    fire: Callable[[Any, Timer, datetime], Fired]


class TimerKinds:
    """The registry of kinds by name, and the firing of due timers through it."""

    def __init__(self, kinds: Iterable[TimerKind] = ()):
        self._kinds: dict[str, TimerKind] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: TimerKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"timer kind {kind.name!r} is already registered")
        self._kinds[kind.name] = kind

    def get(self, name: str) -> TimerKind | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def fire(self, rt, timer_id: int, now: datetime | None = None) -> bool:
        """Fire one timer if it is pending and due at `now`; True if its handler acted. Never fires twice."""
        timer = Timer.get_or_none(Timer.id == timer_id)
        return timer is not None and self._fire(rt, timer, now or rt.clock())

    def _fire(self, rt, timer: Timer, now: datetime) -> bool:
        if timer.state != PENDING or timer.due_at > now:
            return False
        kind = self.get(timer.kind)
        if kind is None:
            return _unknown_kind(timer, now)
        try:
            with rt.db.atomic():
                _lock_ticket(rt.db, timer.ticket_id)
                claimed = Timer.update(state=FIRED, updated_at=now).where(
                    (Timer.id == timer.id) & (Timer.state == PENDING) & (Timer.due_at <= now)
                ).execute()
                if not claimed:
                    return False  # fired or cancelled by someone else since we read it
                result = kind.fire(rt, timer, now)
        except (OperationalError, InterfaceError):
            raise  # the database is unreachable: the timer is still pending, the next sweep tries again
        except Exception as exc:  # a handler bug must not stop the other timers; the row records it
            log.exception("timer %s (%s, ticket %s) failed", timer.id, timer.kind, timer.ticket_id)
            _record_failure(timer, now, exc)
            return False
        if result.after_commit is not None:
            result.after_commit()
        return result.acted

    def fire_due(self, rt, now: datetime | None = None) -> Counter:
        """Fire every timer due at `now` (the sweep: catches up whatever the exact-time jobs missed);
        returns {kind: how many acted}."""
        now = now or rt.clock()
        acted: Counter = Counter()
        last_id = 0
        while True:
            batch = due(now, after_id=last_id, limit=BATCH)
            for timer in batch:
                if self._fire(rt, timer, now):
                    acted[timer.kind] += 1
            if len(batch) < BATCH:
                return acted
            last_id = batch[-1].id


def schedule(kind: str, ticket, due_at: datetime, now: datetime, payload: dict | None = None) -> Timer:
    """Set the ticket's timer of `kind` to `due_at`, replacing a pending one; call inside the deciding transaction,
    then hand the result to `engine.enqueue.enqueue_timers` after commit."""
    cancel([kind], ticket, now)
    return add(kind, ticket, due_at, now, payload)


def add(kind: str, ticket, due_at: datetime, now: datetime, payload: dict | None = None) -> Timer:
    """`schedule` for a ticket created in this transaction: it has no timer to replace."""
    return create(Timer, kind=kind, ticket=ticket, due_at=due_at, payload=payload or {}, created_at=now, updated_at=now)


def cancel(kinds: Iterable[str], ticket, now: datetime) -> int:
    """Cancel the ticket's pending timers of these kinds; returns how many. Inside the cause's transaction."""
    return Timer.update(state=CANCELLED, updated_at=now).where(
        (Timer.ticket == ticket) & (Timer.state == PENDING) & Timer.kind.in_(list(kinds))
    ).execute()


def due(now: datetime, after_id: int = 0, limit: int | None = None) -> list[Timer]:
    """Pending timers whose time has come, by id (from `after_id` on)."""
    query = Timer.select().where((Timer.state == PENDING) & (Timer.due_at <= now) & (Timer.id > after_id))
    return list(query.order_by(Timer.id).limit(limit))


def pending(ticket, kind: str) -> Timer | None:
    """The ticket's pending timer of `kind`, if any."""
    return Timer.get_or_none((Timer.ticket == ticket) & (Timer.kind == kind) & (Timer.state == PENDING))


def _lock_ticket(db, ticket_id: int) -> None:
    """Lock the ticket's row first, as every change of a ticket does before touching its timers: one lock order,
    so a firing timer and a reply cannot deadlock. (SQLite's BEGIN IMMEDIATE already serialises writers.)"""
    if db.for_update:
        Ticket.select(Ticket.id).where(Ticket.id == ticket_id).for_update("FOR NO KEY UPDATE").execute()


def _unknown_kind(timer: Timer, now: datetime) -> bool:
    """A timer of a kind no longer registered (removed from the code): logged once and marked failed."""
    log.warning("timer %s of ticket %s has unknown kind %r: marked failed", timer.id, timer.ticket_id, timer.kind)
    Timer.update(state=FAILED, updated_at=now, last_error=f"unknown timer kind {timer.kind!r}").where(
        (Timer.id == timer.id) & (Timer.state == PENDING)
    ).execute()
    return False


def _record_failure(timer: Timer, now: datetime, exc: Exception) -> None:
    """Count a handler failure: the timer stays pending for the next sweep, or is failed after MAX_ATTEMPTS."""
    attempts = timer.attempts + 1
    Timer.update(
        attempts=attempts, last_error=f"{type(exc).__name__}: {exc}"[:2000], updated_at=now,
        state=FAILED if attempts >= MAX_ATTEMPTS else PENDING,
    ).where((Timer.id == timer.id) & (Timer.state == PENDING)).execute()

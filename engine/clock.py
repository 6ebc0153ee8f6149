"""The wall clock the engine computes its deadlines from: delivery backoff and retry_after, leases, reminders, auto-close.

Every Runtime carries one (`rt.clock`, `utcnow` unless given another): a callable returning an aware UTC datetime.
A test or a tool may hand the Runtime a clock it moves itself. RQ's scheduler reads the system clock on its own, so a
path through RQ's delayed jobs is driven in tests by moving the system clock (time-machine) instead.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)

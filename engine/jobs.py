"""The functions RQ runs: plain ids in, the domain does the work. `engine.enqueue` puts them on the queue.

The timer job, `engine.timer_kinds.fire_timer`, lives beside the list of timer kinds it fires.
"""
from __future__ import annotations

from engine.delivery import process
from engine.runtime import start_runtime
from engine.settings import from_env

# RQ imports jobs by dotted name, so a worker process binds its Runtime here once (app.worker does).
_bound = {}


def bind_runtime(rt) -> None:
    """Make `rt` the Runtime job functions of this process use."""
    _bound["rt"] = rt


def runtime():
    """The bound Runtime, or one built from the environment on first use."""
    if "rt" not in _bound:
        _bound["rt"] = start_runtime(from_env())
    return _bound["rt"]


def deliver(delivery_id: int) -> str:
    """Send one outbox row (claimed with a lease, so a second run of a sent row sends nothing)."""
    return process(runtime(), delivery_id)

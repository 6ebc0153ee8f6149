"""Every timer kind the engine fires, in one list (auto-close, its reminder, the SLA targets), and the RQ job that fires one timer.

The sweep and the job read this list; nothing registers a kind by being imported. A timer whose kind is not listed
(removed from the code) is logged and marked failed when it comes due.
"""
from __future__ import annotations

from engine import jobs, sla, tickets
from engine.timers import TimerKinds

KINDS = TimerKinds([tickets.REMIND_KIND, tickets.AUTO_CLOSE_KIND, sla.FIRST_RESPONSE_KIND, sla.RESOLUTION_KIND])


def fire_timer(timer_id: int) -> bool:
    """RQ job (`engine.enqueue.FIRE_TIMER`): fire the timer if it is still pending and due (a no-op otherwise)."""
    return KINDS.fire(jobs.runtime(), timer_id)

"""Waiting in tests: for a condition, never for a deadline tuned on a quiet machine.

A test that needs something to happen (a message arriving, a worker picking a job up) polls for it with
`wait_for`. The cap only bounds a hang: on a loaded machine a slow pass still passes, while a broken one
fails with the cap's message instead of blocking the suite until pytest-timeout.
"""
from __future__ import annotations

import time
from typing import Any, Callable

HANG_CAP = 120.0  # seconds; a bound on a hang, not a speed requirement
DUMP_AFTER = 30.0  # seconds after SIGTERM a process that has not exited is taken to hang and its stacks dumped


def wait_for(predicate: Callable[[], Any], timeout: float = HANG_CAP, interval: float = 0.05,
             message: str | None = None) -> Any:
    """Poll `predicate` until it returns a truthy value and return it; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {message or predicate}")
        time.sleep(interval)

"""Stop signals (SIGTERM, SIGINT) reach the main thread only.

CPython runs signal handlers in the main thread, but the kernel delivers a signal sent to the process to any
thread that does not block it. When a helper thread takes it, the main thread's blocking call (RQ's BLMOVE of
several minutes, a socket read) is not interrupted, and the handler waits until that call returns by itself:
a worker that got SIGTERM while idle kept working for minutes. Threads started inside `kept_from_new_threads()`
block the stop signals for their whole life, so the kernel always picks the main thread.
"""
from __future__ import annotations

import signal
from contextlib import contextmanager

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


@contextmanager
def kept_from_new_threads():
    """Threads started in this block (ours or a library's) never take a stop signal; the calling thread's own
    mask is restored at the end, and a stop signal that came meanwhile is delivered to it then."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)

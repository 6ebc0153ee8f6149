"""Stop signals (SIGTERM, SIGINT): remembered until a process can act on them, and taken by its main thread only.

An exception raised by a signal handler at an arbitrary point can be lost: C code that clears errors swallowed
the SystemExit of a SIGTERM that came while psycopg2's extension module was being imported, and the worker ran
on. So `run.py` first installs `PENDING_STOP`. While the command's modules load, nothing exists to clean up, and a
stop signal ends the process at once by the signal's default action (no exception to swallow; on a loaded machine
the imports alone can take seconds). Once `hold()` is called, before the command starts anything, the handler only
remembers the signal; a one-shot command then gets `exit_on_stop()`, and a long-running one acts on the remembered
signal once its main loop is ready.

CPython runs handlers in the main thread, but the kernel delivers a signal sent to the process to any thread
that does not block it. When a helper thread takes it, the main thread's blocking call (RQ's BLMOVE of several
minutes, a socket read) is not interrupted, and the handler waits until that call returns by itself. Threads
started inside `kept_from_new_threads()` block the stop signals for their whole life.
"""
from __future__ import annotations

import signal
import sys
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class PendingStop:
    """A handler that remembers the last stop signal received; installed with `die_until_held`, it ends the process
    by the signal's default action until `hold()` is called."""

    def __init__(self):
        self.signum: int | None = None
        self.holding = True

    def __call__(self, signum, frame) -> None:
        if not self.holding:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
        self.signum = signum

    def hold(self) -> None:
        """From now on the process may own something to clean up (a server, a child, a lock): only remember."""
        self.holding = True

    def install(self, *, die_until_held: bool = False) -> None:
        self.holding = not die_until_held
        for signum in STOP_SIGNALS:
            signal.signal(signum, self)


PENDING_STOP = PendingStop()


def exit_on_stop() -> None:
    """From now on SIGTERM exits the process (SystemExit: atexit hooks run) and SIGINT raises KeyboardInterrupt;
    a stop signal remembered by PENDING_STOP takes effect now."""
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if PENDING_STOP.signum is not None:
        signal.raise_signal(PENDING_STOP.signum)


def _exit(signum, frame) -> None:
    sys.exit(0)


@contextmanager
def kept_from_new_threads():
    """Threads started in this block (ours or a library's) never take a stop signal; the calling thread's own
    mask is restored at the end, and a stop signal that came meanwhile is delivered to it then."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)

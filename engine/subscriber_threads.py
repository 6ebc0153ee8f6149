"""The shared shape of a thread that follows a Redis pub/sub channel: started with the stop signals blocked (they
must reach the main thread), stopped by a flag it checks within WAKE_EVERY, and stopped at exit after the process's
Redis exit hooks are registered, so its subscription is closed before they release the connections (an open one
would keep an embedded redis-server alive after the process exits)."""
from __future__ import annotations

import atexit
import threading
import weakref

from engine.stop_signals import kept_from_new_threads

WAKE_EVERY = 0.25  # seconds: the longest a blocking wait lasts, so a stop ends the thread

_running: "weakref.WeakSet[SubscriberThread]" = weakref.WeakSet()


class SubscriberThread(threading.Thread):
    """A daemon thread whose `run` ends soon after `stop()` (it checks `self._stopped` at least every WAKE_EVERY)."""

    def __init__(self, name: str):
        super().__init__(name=name, daemon=True)
        self._stopped = threading.Event()

    def start(self) -> None:
        with kept_from_new_threads():
            super().start()
        _running.add(self)
        # Moved after the process's Redis exit hooks (atexit runs the last registered first).
        atexit.unregister(stop_all)
        atexit.register(stop_all)

    def stop(self) -> None:
        """Ask the thread to end: it closes its own subscription (closing it from another thread would make redis-py
        reconnect inside the blocked read)."""
        self._stopped.set()


def stop_all() -> None:
    """Stop every subscriber thread of this process and wait (about WAKE_EVERY) until their subscriptions are closed."""
    threads = list(_running)
    for thread in threads:
        thread.stop()
    for thread in threads:
        if thread.is_alive() and threading.current_thread() is not thread:
            thread.join(timeout=WAKE_EVERY * 4)

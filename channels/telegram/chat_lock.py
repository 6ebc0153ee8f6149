"""One chat's updates one at a time, across processes (webhooks behind several web workers)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from redis.exceptions import RedisError

LOCK_TIMEOUT = 120  # seconds a lock outlives a crashed holder
WAIT_TIMEOUT = 60  # seconds an update waits for the chat's previous one


@contextlib.contextmanager
def chat_lock(redis, binding: str, chat_id: int) -> Iterator[None]:
    """Hold the chat's Redis lock; with Redis down, carry on unlocked rather than stop answering."""
    try:
        lock = redis.lock(f"tg:chat:{binding}:{chat_id}", timeout=LOCK_TIMEOUT, blocking_timeout=WAIT_TIMEOUT)
        acquired = lock.acquire()
    except RedisError:
        lock, acquired = None, False
    try:
        yield
    finally:
        if acquired:
            with contextlib.suppress(RedisError):
                lock.release()

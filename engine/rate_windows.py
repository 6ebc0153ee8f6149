"""Fixed-window attempt counters in Redis: sign-in, account emails and invitations count against them."""
from __future__ import annotations

import logging
from typing import Iterable

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def window_exceeded(redis: Redis, window: int, limits: Iterable[tuple[str, int]]) -> bool:
    """Count one attempt in each (key, limit) fixed window of `window` seconds; True when any is over its limit.

    With Redis unreachable the attempt is allowed (logged): people must still get in while it is away.
    """
    limits = list(limits)
    pipe = redis.pipeline()
    for key, _ in limits:
        pipe.set(key, 0, ex=window, nx=True)  # starts the window (EXPIRE NX needs Redis 7)
        pipe.incr(key)
    try:
        counts = pipe.execute()[1::2]
    except RedisError as exc:
        log.warning("rate limit unavailable, allowing the attempt: %s", exc)
        return False
    return any(count > limit for count, (_, limit) in zip(counts, limits))

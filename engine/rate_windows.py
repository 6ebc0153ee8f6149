"""Fixed-window attempt counters in Redis: sign-in, account emails, invitations and search feedback count against them."""
from __future__ import annotations

import logging
from typing import Iterable

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def window_exceeded(redis: Redis, window: int, limits: Iterable[tuple[str, int]], unavailable: bool = False) -> bool:
    """Count one attempt in each (key, limit) fixed window of `window` seconds; True when any is over its limit.

    With Redis unreachable the answer is `unavailable` (logged): by default the attempt is allowed, because people
    must still get in while it is away; something optional (search feedback) passes True and is skipped.
    """
    limits = list(limits)
    pipe = redis.pipeline()
    for key, _ in limits:
        pipe.set(key, 0, ex=window, nx=True)  # starts the window (EXPIRE NX needs Redis 7)
        pipe.incr(key)
    try:
        counts = pipe.execute()[1::2]
    except RedisError as exc:
        log.warning("rate limit unavailable, %s the attempt: %s", "refusing" if unavailable else "allowing", exc)
        return unavailable
    return any(count > limit for count, (_, limit) in zip(counts, limits))

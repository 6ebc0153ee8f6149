"""Token buckets in Redis shared by every worker: take one token from several buckets at once, or learn the wait."""
from __future__ import annotations

from dataclasses import dataclass

# KEYS: bucket keys; ARGV: per bucket (rate per second, capacity). Time comes from the Redis server, so workers on
# machines with skewed clocks still share one budget. All buckets are charged together or none is. A refused caller
# gets a distinct place in a virtual queue per bucket ('queue' = when the next waiter may try), so a backlog of N
# waiters retries about once each instead of N times per token (no thundering herd).
_TAKE = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = 0
local levels = {}
local queues = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local capacity = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'at', 'queue')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  queues[i] = tonumber(state[3]) or 0
  if tokens < 1 then
    wait = math.max(wait, (1 - tokens) / rate)
  end
end
if wait == 0 then
  for i, key in ipairs(KEYS) do
    local rate = tonumber(ARGV[2 * i - 1])
    local capacity = tonumber(ARGV[2 * i])
    redis.call('HSET', key, 'tokens', levels[i] - 1, 'at', now)
    redis.call('EXPIRE', key, math.ceil(math.max(capacity / rate, queues[i] - now)) + 1)
  end
  return '0'
end
-- Only the buckets that refused queue the caller: a chat's backlog must not delay other chats of the same bot.
local slot = now + wait
for i, key in ipairs(KEYS) do
  if levels[i] < 1 then
    slot = math.max(slot, queues[i])
  end
end
for i, key in ipairs(KEYS) do
  if levels[i] < 1 then
    local rate = tonumber(ARGV[2 * i - 1])
    local capacity = tonumber(ARGV[2 * i])
    redis.call('HSET', key, 'tokens', levels[i], 'at', now, 'queue', slot + 1 / rate)
    redis.call('EXPIRE', key, math.ceil(math.max(capacity / rate, slot + 1 / rate - now)) + 1)
  end
end
return tostring(slot - now)
"""


@dataclass(frozen=True)
class Bucket:
    key: str
    rate: float  # tokens per second
    capacity: float  # burst size


class RateLimiter:
    """Atomic multi-bucket token taking on one Redis (the Lua script is loaded once per client)."""

    def __init__(self, redis):
        self._script = redis.register_script(_TAKE)

    def take(self, buckets: list[Bucket]) -> float:
        """Take one token from every bucket and return 0, or take none and return the seconds until this caller's turn."""
        args = []
        for bucket in buckets:
            args += [bucket.rate, max(1.0, bucket.capacity)]
        return float(self._script(keys=[b.key for b in buckets], args=args))


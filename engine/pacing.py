"""Send slots shared through Redis: one send at a time per address, spaced per sender, paused on request.

A caller reserves a slot before each send and releases it once the send has completed:
- the address lane ("serial") admits one holder at a time, and the next send no earlier than `interval` after the
  previous one *completed*, so the gap the receiving server measures between two arrivals is at least `interval`
  however long each request took on the way;
- each shared lane ("spaced": the sender's overall rate, a group's per-minute rate) hands out start times at least
  its `interval` apart;
- pause keys hold a deadline (a 429's retry_after) before which nothing starts.
Time comes from the Redis server, so every process on every machine shares one schedule. A slot further away than the
caller's `max_wait` is not reserved: the caller learns the wait and comes back (or queues its message) instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from engine.unique_ids import unique_id

# Frees a serial lane its holder is done with: the next send may start `interval` after now (the completion).
_RELEASE_LANE = """
local function release(lane, holder, interval, now)
  if redis.call('HGET', lane, 'holder') ~= holder then
    return 0
  end
  local next = math.max(tonumber(redis.call('HGET', lane, 'next')) or 0, now + interval)
  redis.call('HSET', lane, 'next', next)
  redis.call('HDEL', lane, 'holder', 'until')
  redis.call('EXPIRE', lane, math.ceil(next - now) + 1)
  return 1
end
"""

_NOW = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

# KEYS[1]: the serial lane (hash: next, holder, until); KEYS[2]: the address's queue (a list: while it holds older
# messages, none is reserved); KEYS[3..2+S]: spaced lanes (hash: next); then P pause keys; the rest: serial lanes to
# release first (slots whose sends completed). ARGV: serial interval, max_wait, holder id, hold seconds, S, P, then S
# spaced intervals, then a holder id and an interval per lane released.
_RESERVE = _RELEASE_LANE + _NOW + """
local interval, max_wait, holder, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local spaced, pauses = tonumber(ARGV[5]), tonumber(ARGV[6])
local released = 2 + spaced + pauses
for i = released + 1, #KEYS do
  local at = 6 + spaced + 2 * (i - released) - 1
  release(KEYS[i], ARGV[at], tonumber(ARGV[at + 1]), now)
end
if redis.call('LLEN', KEYS[2]) > 0 then
  return {-1, '0'}
end
local state = redis.call('HMGET', KEYS[1], 'next', 'holder', 'until')
local start = math.max(now, tonumber(state[1]) or 0)
if state[2] and state[2] ~= holder and (tonumber(state[3]) or 0) > now then
  return {0, tostring(math.max(start, now + interval) - now)}
end
for i = 1, spaced do
  start = math.max(start, tonumber(redis.call('HGET', KEYS[2 + i], 'next')) or 0)
end
for i = 3 + spaced, released do
  start = math.max(start, tonumber(redis.call('GET', KEYS[i])) or 0)
end
local wait = start - now
if wait > max_wait then
  return {0, tostring(wait)}
end
redis.call('HSET', KEYS[1], 'next', start + interval, 'holder', holder, 'until', start + hold)
redis.call('EXPIRE', KEYS[1], math.ceil(wait + hold + interval) + 1)
for i = 1, spaced do
  local every = tonumber(ARGV[6 + i])
  redis.call('HSET', KEYS[2 + i], 'next', start + every)
  redis.call('EXPIRE', KEYS[2 + i], math.ceil(wait + every) + 1)
end
return {1, tostring(wait)}
"""

# KEYS: serial lanes; ARGV: a holder id and an interval per lane. Returns how many were still held by those holders.
_RELEASE = _RELEASE_LANE + _NOW + """
local n = 0
for i = 1, #KEYS do
  n = n + release(KEYS[i], ARGV[2 * i - 1], tonumber(ARGV[2 * i]), now)
end
return n
"""

# KEYS[1]: a pause key; ARGV[1]: seconds. Keeps the later of the current and the new deadline.
_PAUSE = _NOW + """
local deadline = math.max(tonumber(redis.call('GET', KEYS[1])) or 0, now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], tostring(deadline), 'PX', math.ceil((deadline - now) * 1000) + 1)
return tostring(deadline - now)
"""


@dataclass(frozen=True)
class Lane:
    key: str
    interval: float  # seconds between two sends


@dataclass(frozen=True)
class Route:
    """Everything one send to one address is paced by."""

    serial: Lane  # the address: one send at a time, `interval` after the previous one completed
    spaced: tuple[Lane, ...] = ()  # shared rates (the sender as a whole, a group chat's per-minute limit)
    pauses: tuple[str, ...] = ()  # keys holding a deadline before which nothing starts
    queue: str = ""  # a list of the address's messages waiting elsewhere: while not empty, nothing is reserved


@dataclass(frozen=True)
class Slot:
    reserved: bool
    wait: float  # seconds until the reserved start (or, unreserved, until the caller should ask again)
    holder: str
    queued: bool = False  # not reserved because older messages wait in the route's queue
    lane: Lane | None = None  # the serial lane a reserved slot holds until released


class Pacer:
    """Reserve, release and pause on one Redis (the Lua scripts are loaded once per client); `pacer_for` keeps one
    per client."""

    def __init__(self, redis):
        self.redis = redis
        self._reserve = redis.register_script(_RESERVE)
        self._release = redis.register_script(_RELEASE)
        self._pause = redis.register_script(_PAUSE)

    def reserve(self, route: Route, max_wait: float, hold: float, releasing: Iterable[Slot] = ()) -> Slot:
        """A start `wait` seconds from now (reserved when within `max_wait`); the holder must release within `hold`
        seconds of that start, or the address lane frees itself. `releasing`: slots whose sends have completed,
        released first in the same script (one Redis call per send for a caller that releases late)."""
        holder = unique_id()
        releasing = [slot for slot in releasing if slot.lane is not None]
        keys = [route.serial.key, route.queue or f"{route.serial.key}:queue", *(lane.key for lane in route.spaced),
                *route.pauses, *(slot.lane.key for slot in releasing)]
        args = [route.serial.interval, max_wait, holder, hold, len(route.spaced), len(route.pauses),
                *(lane.interval for lane in route.spaced), *_holders_and_intervals(releasing)]
        reserved, wait = self._reserve(keys=keys, args=args)
        return Slot(int(reserved) == 1, max(0.0, float(wait)), holder, queued=int(reserved) == -1,
                    lane=route.serial if int(reserved) == 1 else None)

    def release(self, route: Route, slot: Slot) -> None:
        """The send completed (or failed): the address's next send may start one interval from now."""
        self._release(keys=[route.serial.key], args=[slot.holder, route.serial.interval])

    def release_all(self, slots: Iterable[Slot], pipeline=None) -> None:
        """Release reserved slots in one script; queued on `pipeline` (a redis-py pipeline) when given."""
        slots = [slot for slot in slots if slot.lane is not None]
        if not slots:
            return
        keys, args = [slot.lane.key for slot in slots], _holders_and_intervals(slots)
        if pipeline is None:
            self._release(keys=keys, args=args)
        else:  # the script's text: a registered script in a pipeline first asks Redis whether it has it
            pipeline.eval(_RELEASE, len(keys), *keys, *args)

    def pause(self, key: str, seconds: float) -> float:
        """Nothing paced by `key` starts for `seconds` (a later deadline already set is kept); returns the pause left."""
        return float(self._pause(keys=[key], args=[seconds]))


_pacers: dict[int, Pacer] = {}

def _holders_and_intervals(slots: list[Slot]) -> list:
    return [value for slot in slots for value in (slot.holder, slot.lane.interval)]


def pacer_for(redis) -> Pacer:
    """The Pacer of a Redis client (one per client and process)."""
    pacer = _pacers.get(id(redis))
    if pacer is None or pacer.redis is not redis:
        pacer = _pacers[id(redis)] = Pacer(redis)
    return pacer

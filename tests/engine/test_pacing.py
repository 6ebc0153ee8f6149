"""engine.pacing on a real Redis: one holder per address, spaced shared lanes, pauses, waits beyond max_wait."""
from __future__ import annotations

import time

from engine.pacing import Lane, Pacer, Route


def route(chat: str = "c1", interval: float = 0.3, bot_interval: float = 0.05) -> Route:
    return Route(serial=Lane(f"t:chat:{chat}", interval), spaced=(Lane("t:bot", bot_interval),), pauses=("t:pause",))


def test_one_holder_per_address_and_the_next_waits_from_completion(redis):
    """While a send to an address is held, the next is told to wait; after release, it starts `interval` later."""
    pacer = Pacer(redis)
    first = pacer.reserve(route(), max_wait=1, hold=5)
    assert first.reserved and first.wait == 0
    assert not pacer.reserve(route(), max_wait=1, hold=5).reserved  # held: no second reservation
    time.sleep(0.1)  # the send takes a while
    pacer.release(route(), first)
    second = pacer.reserve(route(), max_wait=1, hold=5)
    assert second.reserved and 0.25 <= second.wait <= 0.3  # 0.3 s after the release, not after the first start


def test_a_slot_beyond_max_wait_is_not_reserved(redis):
    pacer = Pacer(redis)
    pacer.release(route(), pacer.reserve(route(interval=2), max_wait=1, hold=5))
    later = pacer.reserve(route(interval=2), max_wait=1, hold=5)
    assert not later.reserved and 1.8 < later.wait <= 2
    assert pacer.reserve(route(interval=2), max_wait=3, hold=5).reserved  # nothing was taken by the refused call


def test_shared_lane_spaces_starts_across_addresses(redis):
    """Different addresses share the sender's lane: start times 50 ms apart."""
    pacer = Pacer(redis)
    waits, starts = [], []  # starts: (earliest, latest) on this clock; a wait counts from Redis's now, in the call
    for i in range(4):
        before = time.monotonic()
        waits.append(pacer.reserve(route(chat=f"c{i}"), max_wait=1, hold=5).wait)
        starts.append((before + waits[-1], time.monotonic() + waits[-1]))
    assert waits[0] == 0
    for (early, late), (next_early, next_late) in zip(starts, starts[1:]):
        assert next_early - late - 0.001 <= 0.05 <= next_late - early + 0.001


def test_a_pause_holds_every_address(redis):
    pacer = Pacer(redis)
    assert 1.9 < pacer.pause("t:pause", 2) <= 2
    assert 1.5 < pacer.pause("t:pause", 1) <= 2  # a shorter pause keeps the later deadline
    slot = pacer.reserve(route(chat="other"), max_wait=5, hold=5)
    assert slot.reserved and 1.8 < slot.wait <= 2


def test_a_dead_holder_frees_the_address_after_hold(redis):
    pacer = Pacer(redis)
    assert pacer.reserve(route(interval=0.01), max_wait=1, hold=0.2).reserved  # never released
    time.sleep(0.25)
    assert pacer.reserve(route(interval=0.01), max_wait=1, hold=0.2).reserved


def test_nothing_is_reserved_while_the_address_has_queued_messages(redis):
    """A new message goes behind older ones waiting in the route's queue (the bots' queued replies)."""
    pacer = Pacer(redis)
    queued = Route(serial=Lane("t:chat:q", 0.01), queue="t:queue:q")
    redis.rpush("t:queue:q", "older")
    slot = pacer.reserve(queued, max_wait=1, hold=5)
    assert not slot.reserved and slot.queued
    redis.delete("t:queue:q")
    assert pacer.reserve(queued, max_wait=1, hold=5).reserved


def test_a_reservation_releases_completed_slots_first(redis):
    """A caller that releases late hands its completed slots to its next reservation (one script) or to release_all."""
    pacer = Pacer(redis)
    first = pacer.reserve(route("c1"), max_wait=1, hold=5)
    other = pacer.reserve(route("c2", bot_interval=0), max_wait=1, hold=5, releasing=[first])
    assert other.reserved and redis.hget("t:chat:c1", "holder") is None
    again = pacer.reserve(route("c1", bot_interval=0), max_wait=1, hold=5)
    assert again.reserved and 0.25 <= again.wait <= 0.3  # one interval after the release, as with release()
    with redis.pipeline(transaction=False) as pipe:
        pacer.release_all([other, again], pipe)
        pipe.execute()
    assert redis.hget("t:chat:c1", "holder") is None and redis.hget("t:chat:c2", "holder") is None

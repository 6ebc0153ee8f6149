"""One chat's updates one at a time, across processes (webhooks behind several web workers, a restarting bot).

A polling batch takes the locks of all its chats in one Redis round trip (`batch_locks`) and marks each chat
it holds while handling it (`holding`), so the per-update `chat_lock` costs nothing there.
"""
from __future__ import annotations

import contextlib
import uuid
from contextvars import ContextVar
from typing import Callable, Iterable, Iterator

from redis.client import Pipeline
from redis.exceptions import RedisError

LOCK_TIMEOUT = 120  # seconds a lock outlives a crashed holder
WAIT_TIMEOUT = 60  # seconds an update waits for the chat's previous one

_held: ContextVar[tuple[str, int] | None] = ContextVar("held_chat", default=None)

# Delete the keys still holding this batch's token (a lock that expired and was taken by another is left alone).
_RELEASE = """
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then redis.call('del', key); n = n + 1 end
end
return n
"""


def _key(binding: str, chat_id: int) -> str:
    return f"tg:chat:{binding}:{chat_id}"


@contextlib.contextmanager
def chat_lock(redis, binding: str, chat_id: int) -> Iterator[None]:
    """Hold the chat's Redis lock; with Redis down, carry on unlocked rather than stop answering."""
    if _held.get() == (binding, chat_id):
        yield
        return
    try:
        lock = redis.lock(_key(binding, chat_id), timeout=LOCK_TIMEOUT, blocking_timeout=WAIT_TIMEOUT)
        acquired = lock.acquire()
    except RedisError:
        lock, acquired = None, False
    try:
        yield
    finally:
        if acquired:
            with contextlib.suppress(RedisError):
                lock.release()


@contextlib.contextmanager
def batch_locks(redis, binding: str, chat_ids: Iterable[int],
                also_at_release: Callable[[Pipeline], None] | None = None) -> Iterator[set[int]]:
    """Try every chat's lock at once; yields the chats taken (the others lock per update, waiting as usual).
    `also_at_release` may queue more commands on the pipeline that releases the locks (one round trip)."""
    keys = {chat_id: _key(binding, chat_id) for chat_id in chat_ids}
    token = uuid.uuid4().hex
    try:
        with redis.pipeline(transaction=False) as pipe:
            for key in keys.values():
                pipe.set(key, token, nx=True, px=LOCK_TIMEOUT * 1000)
            taken = {chat_id for chat_id, ok in zip(keys, pipe.execute()) if ok}
    except RedisError:
        taken = set()
    try:
        yield taken
    finally:
        with contextlib.suppress(RedisError), redis.pipeline(transaction=False) as pipe:
            if taken:
                pipe.eval(_RELEASE, len(taken), *(keys[c] for c in taken), token)
            if also_at_release is not None:
                also_at_release(pipe)
            if len(pipe):
                pipe.execute()


@contextlib.contextmanager
def holding(binding: str, chat_id: int) -> Iterator[None]:
    """This thread handles the chat under a lock taken by `batch_locks`."""
    mark = _held.set((binding, chat_id))
    try:
        yield
    finally:
        _held.reset(mark)

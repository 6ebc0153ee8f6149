"""Bot replies that cannot go out now (a long flood wait, Telegram failing): queued per chat in Redis and sent later,
in order, through the same pacing; only a chat that refused the bot for good drops its queue (and is unlinked)."""
from __future__ import annotations

import json
import logging

from engine import accounts, jobs
from engine.enqueue import enqueue_call
from engine.errors import DeliveryPostponed, PermanentDeliveryError, TemporaryDeliveryError

from channels.telegram import pace
from channels.telegram.bindings import sharing_token
from channels.telegram.keyboards import Rows
from channels.telegram.sender import bot_of, send_text

log = logging.getLogger(__name__)

DRAIN = "channels.telegram.outbox.drain"
LOCK_SECONDS = 120  # a drain holding the chat's queue longer than this is presumed dead
DRAIN_BATCH = 20  # replies per job run (each may wait for its slot): well inside LOCK_SECONDS
MAX_BACKOFF = 600  # seconds between tries while Telegram keeps failing


def push(rt, binding_id: str, token: str, chat_id: int, replies: list[tuple[str, Rows | None]], first_part: int = 0,
         delay: float = 0) -> None:
    """Queue replies (text, buttons) for the chat, the first one's first `first_part` parts already sent."""
    items = [json.dumps({"text": text, "buttons": buttons, "sent": first_part if i == 0 else 0, "tries": 0},
                        ensure_ascii=False) for i, (text, buttons) in enumerate(replies)]
    rt.redis.rpush(pace.outbox_key(token, chat_id), *items)
    enqueue_call(rt, DRAIN, binding_id, chat_id, delay=delay)


def drain(binding_id: str, chat_id: int) -> str:
    """The RQ job: send the chat's queued replies in order, each paced; reschedules itself when it must wait."""
    rt = jobs.runtime()
    bot = bot_of(rt, binding_id)
    key = pace.outbox_key(bot.token, chat_id)
    lock = rt.redis.lock(f"{key}:drain", timeout=LOCK_SECONDS, blocking=False)
    if not lock.acquire():
        return "busy"  # another drain is at it; it re-checks the queue after letting go
    try:
        outcome = _send_queued(rt, binding_id, bot, key, chat_id)
    finally:
        lock.release()
    if outcome in ("sent", "more") and rt.redis.llen(key):  # the rest of a long queue, or pushed meanwhile
        enqueue_call(rt, DRAIN, binding_id, chat_id)
    return outcome


def _send_queued(rt, binding_id: str, bot, key: str, chat_id: int) -> str:
    for _ in range(DRAIN_BATCH):
        raw = rt.redis.lindex(key, 0)
        if raw is None:
            return "sent"
        item = json.loads(raw)

        def sent(n: int, item=item) -> None:
            rt.redis.lset(key, 0, json.dumps({**item, "sent": n}, ensure_ascii=False))

        try:
            send_text(rt, bot, chat_id, item["text"], item["buttons"], first=item["sent"], sent=sent)
        except PermanentDeliveryError as exc:
            log.info("telegram %s: chat %s unreachable (%s); link deactivated, queued replies dropped",
                     binding_id, chat_id, exc)
            for binding in sharing_token(rt, binding_id)[1]:
                accounts.unlink(binding, chat_id, str(exc))
            rt.redis.delete(key)
            return "refused"
        except TemporaryDeliveryError as exc:
            tries = item["tries"] + (0 if isinstance(exc, DeliveryPostponed) else 1)
            rt.redis.lset(key, 0, json.dumps({**json.loads(rt.redis.lindex(key, 0)), "tries": tries}, ensure_ascii=False))
            delay = exc.retry_after or min(MAX_BACKOFF, 2 ** tries)
            log.info("telegram %s: queued reply to %s waits %.0fs: %s", binding_id, chat_id, delay, exc)
            enqueue_call(rt, DRAIN, binding_id, chat_id, delay=delay)
            return "later"
        rt.redis.lpop(key)
    return "more"

"""Telegram's limits as engine.pacing routes: per bot, per chat, per group; one schedule for workers and bot replies.

Keys are per bot (the numeric id in its token, shared by every binding using that token), never per binding.
"""
from __future__ import annotations

from engine.pacing import Lane, Route

SAFETY = 0.03  # every interval is this much longer than Telegram's published limit (3% under the allowed rate)


def bot_id(token: str) -> str:
    """The bot's numeric id: the part of the token before ':' (not a secret)."""
    return token.split(":", 1)[0]


def bot_pause_key(token: str) -> str:
    return f"pace:tg:pause:{bot_id(token)}"


def outbox_key(token: str, chat_id: int) -> str:
    """The chat's queue of bot replies that could not go at once (channels.telegram.outbox)."""
    return f"tg:outbox:{bot_id(token)}:{chat_id}"


def route(policy, token: str, chat_id: int, behind_outbox: bool = False) -> Route:
    """Per chat one message at a time (`per_chat_per_second`), per bot `per_bot_per_second`, and in a group
    (negative chat id) also `per_group_per_minute`; a 429 pauses the bot (bot_pause_key). `behind_outbox`: nothing is
    reserved while the chat's queued replies wait (a new reply goes behind them)."""
    bot = bot_id(token)
    spaced = [Lane(f"pace:tg:bot:{bot}", (1 + SAFETY) / policy.per_bot_per_second)]
    if int(chat_id) < 0:
        spaced.append(Lane(f"pace:tg:group:{bot}:{chat_id}", (1 + SAFETY) * 60 / policy.per_group_per_minute))
    return Route(serial=Lane(f"pace:tg:chat:{bot}:{chat_id}", (1 + SAFETY) / policy.per_chat_per_second),
                 spaced=tuple(spaced), pauses=(bot_pause_key(token),),
                 queue=outbox_key(token, chat_id) if behind_outbox else "")

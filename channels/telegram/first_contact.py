"""Telegram-first customers in the support bot: whoever writes without a linked account gets one at once
(engine.telegram_first); `/code` or the «Код для сайта» button gives the one-time code that adds an email on the
web."""
from __future__ import annotations

from engine import accounts, telegram_first
from engine.catalog.durations import parse_duration
from engine.ratelimit import Bucket, RateLimiter

from channels.telegram.events import Ctx

COMMAND = "code"
CODES_PER_WINDOW = 5  # codes a Telegram user may ask for ...
CODE_WINDOW = 600  # ... per this many seconds


def adopt(ctx: Ctx) -> bool:
    """Give the writer of a private chat with a support bot their account; False where the policy does not allow it.

    A web account that named this Telegram username in its settings (seed 000) is linked instead of making a new one.
    """
    if ctx.user is not None:
        return True
    if not (ctx.serves_tickets and ctx.chat_type == "private" and telegram_first.enabled(ctx.rt)):
        return False
    for binding in ctx.binding_ids:
        link = accounts.link_by_username(ctx.rt, binding, ctx.chat_id, ctx.tg_user_id, ctx.tg_username, ctx.chat_type)
        if link is not None:
            ctx.user = link.user
            return True
    ctx.user = telegram_first.customer_for(ctx.rt, ctx.binding_id, ctx.chat_id, ctx.tg_user_id, ctx.tg_username,
                                           ctx.tg_name, ctx.locale)
    return ctx.user is not None


def send_code(ctx: Ctx) -> None:
    """The one-time code for the web, in a private chat only (a group's members would see it)."""
    if not (ctx.serves_tickets and telegram_first.enabled(ctx.rt)):
        return ctx.say(ctx.t("help" if ctx.serves_tickets else "notify_help"))
    if ctx.chat_type != "private":
        return ctx.say(ctx.t("claim_code_private_only"))
    if not adopt(ctx):
        return ctx.say(ctx.t("not_linked"))
    if not telegram_first.is_telegram_first(ctx.user):
        return ctx.say(ctx.t("claim_not_needed"))
    bucket = Bucket(f"tg:claim-code:{ctx.tg_user_id}", rate=CODES_PER_WINDOW / CODE_WINDOW, capacity=CODES_PER_WINDOW)
    wait = RateLimiter(ctx.rt.redis).take([bucket])
    if wait > 0:
        return ctx.say(ctx.t("claim_code_rate_limited", seconds=int(wait) + 1))
    code = telegram_first.issue_claim_code(ctx.rt, ctx.user)
    minutes = max(1, int(parse_duration(ctx.catalog.policies.signup.claim_code_ttl).total_seconds() // 60))
    ctx.say(ctx.t("claim_code", code=code, minutes=minutes))

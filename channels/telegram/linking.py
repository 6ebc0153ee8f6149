"""/start: link the chat to a customer by a one-time token or, where the binding allows, by Telegram username."""
from __future__ import annotations

from engine import accounts, telegram_first
from engine.errors import LinkTokenInvalid, RateLimited
from engine.ratelimit import Bucket, RateLimiter

from channels.telegram.callbacks import ClaimCode, encode
from channels.telegram.events import Ctx

LINK_ATTEMPTS = 5  # token guesses per Telegram user ...
LINK_WINDOW = 600  # ... per this many seconds


def _limited(ctx: Ctx) -> float:
    """Seconds to wait before this Telegram user may try another token (brute force protection)."""
    bucket = Bucket(f"tg:link:{ctx.tg_user_id}", rate=LINK_ATTEMPTS / LINK_WINDOW, capacity=LINK_ATTEMPTS)
    return RateLimiter(ctx.rt.redis).take([bucket])


def start(ctx: Ctx, payload: str, serves_tickets: bool) -> None:
    """Link on /start; the notification-only bot stays silent on success, as in the seed."""
    payload = payload.strip()
    if payload:
        return _with_token(ctx, payload, serves_tickets)
    if ctx.user is not None:
        return ctx.say(ctx.t("start_already")) if serves_tickets else None
    if ctx.chat_type != "private":
        return ctx.say(ctx.t("link_private_only"))
    linked = [accounts.link_by_username(ctx.rt, b, ctx.chat_id, ctx.tg_user_id, ctx.tg_username, ctx.chat_type)
              for b in ctx.binding_ids]
    if any(linked):
        _linked(ctx, next(link.user for link in linked if link))
        return ctx.say(ctx.t("start_linked")) if serves_tickets else None
    if serves_tickets and telegram_first.enabled(ctx.rt):
        return ctx.say(ctx.t("start_telegram_first"), [[(ctx.t("claim_code_button"), encode(ClaimCode()))]])
    ctx.say(ctx.t("start_unlinked" if serves_tickets else "notify_unlinked"))


def _with_token(ctx: Ctx, token: str, serves_tickets: bool) -> None:
    """Link by a one-time code; a code sent to a group is spent (its members saw it) and the same reply says why."""
    private = ctx.chat_type == "private"
    wait = _limited(ctx) if private else 0  # in a group the code is only spent: nothing to guess there
    if wait > 0:
        return ctx.say(ctx.t("link_rate_limited", seconds=int(wait) + 1))
    for binding in ctx.binding_ids:  # a token shared by several bindings: the code names one of them
        try:
            link = accounts.consume_link_token(ctx.rt, token, binding, ctx.chat_id, ctx.tg_user_id, ctx.tg_username,
                                               ctx.chat_type)
        except (LinkTokenInvalid, RateLimited):
            continue
        _linked(ctx, link.user)
        return ctx.say(ctx.t("start_linked")) if serves_tickets else None
    ctx.say(ctx.t("link_invalid" if private else "link_code_in_group"))


def _linked(ctx: Ctx, user) -> None:
    """From now on the chat speaks for `user`, in the account's language."""
    ctx.user = user
    ctx.locale = user.locale or ctx.locale

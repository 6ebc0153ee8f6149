"""Telegram-first customers (`policies.signup.telegram_first`): someone who writes to a support bot without an account
gets one at once, bound to their numeric Telegram user id; later the bot gives them a one-time code that, entered on
the web, merges that account into an account with an email (engine.account_merge).

The account has no password and a placeholder address under the reserved `.invalid` domain (RFC 2606): nothing is
ever emailed to it and nobody can sign in with it. The unique `User.telegram_id` makes two racing first updates
give one account.
"""
from __future__ import annotations

import secrets

from peewee import IntegrityError

from engine import account_merge, account_tokens, accounts, sessions
from engine.errors import ValidationFailed
from engine.runtime import Runtime
from engine.store.models import AuditLog, TelegramLink, User

PLACEHOLDER_DOMAIN = "telegram.invalid"
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U to misread
CODE_LENGTH = 10  # 50 bits: single use, expiring, and web attempts are rate-limited
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def enabled(rt: Runtime) -> bool:
    return rt.catalog.policies.signup.telegram_first


def placeholder_email(tg_user_id: int) -> str:
    return f"tg{int(tg_user_id)}@{PLACEHOLDER_DOMAIN}"


def is_telegram_first(user: User) -> bool:
    """An account made by the bot that has no email of its own yet."""
    return user.email.endswith("@" + PLACEHOLDER_DOMAIN)


def customer_for(rt: Runtime, binding: str, chat_id: int, tg_user_id: int, username: str | None, name: str,
                 locale: str) -> User | None:
    """The account of this Telegram user, made on first contact, with this private chat linked to it.

    The account already bound to the numeric id wins (also a web account that claimed one), then the owner of an
    active link of that id in another chat; otherwise a new Telegram-first account. None for a deactivated account.
    """
    tg_user_id = int(tg_user_id)
    with rt.db.atomic():
        user = User.get_or_none(User.telegram_id == tg_user_id) or _linked_elsewhere(tg_user_id)
        if user is None:
            try:
                with rt.db.atomic():  # a savepoint: the loser of a race reads the winner's row
                    user = User.create(email=placeholder_email(tg_user_id), name=name.strip()[:200], locale=locale,
                                       telegram_id=tg_user_id,
                                       telegram_username=accounts.normalize_telegram_username(username) or None)
                    AuditLog.create(actor=user, action="telegram_first_account",
                                    detail={"user_id": user.id, "binding": binding})
            except IntegrityError:
                user = User.get(User.telegram_id == tg_user_id)
        if not user.is_active:
            return None
        accounts.link_chat(rt, user, binding, chat_id, tg_user_id, username)
    return user


def _linked_elsewhere(tg_user_id: int) -> User | None:
    link = (TelegramLink.select(TelegramLink, User).join(User)
            .where((TelegramLink.tg_user_id == tg_user_id) & TelegramLink.active & User.is_active
                   & (User.role == "customer"))
            .order_by(TelegramLink.id).first())
    return link.user if link else None


def issue_claim_code(rt: Runtime, user: User) -> str:
    """A new one-time code (two groups of five characters) for claiming this Telegram-first account on the web; older codes die."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    with rt.db.atomic():
        account_tokens.revoke(user, "claim")
        account_tokens.issue(user, "claim", rt.catalog.policies.signup.claim_code_ttl, token=code)
    return f"{code[:5]}-{code[5:]}"


def normalize_code(raw: str) -> str:
    """What a person typed, as stored: case, spaces and dashes ignored, O read as 0 and I/L as 1."""
    return "".join(ch for ch in str(raw or "").upper().translate(_READ_AS) if ch.isalnum())[:40]


def claim_owner(raw_code: str) -> User | None:
    """The Telegram-first account a live code belongs to, without spending it (sign-up checks before creating)."""
    owner = account_tokens.peek(normalize_code(raw_code), "claim")
    return owner if owner is not None and is_telegram_first(owner) else None


def claim(rt: Runtime, raw_code: str, into: User, locale: str) -> account_merge.MergeReport:
    """Spend the code and merge its Telegram-first account into `into` (signed in with an email), audited.

    ValidationFailed (field `code`) for an unusable code or an account that cannot take the merge; the code is only
    spent when the merge happens.
    """
    def refused(key: str) -> ValidationFailed:
        return ValidationFailed({"code": rt.catalog.text(locale, "validation", key)})

    code = normalize_code(raw_code)
    if not enabled(rt) or len(code) != CODE_LENGTH:
        raise refused("claim_code_invalid")
    with rt.db.atomic():
        owner = account_tokens.peek(code, "claim")
        if owner is None or not is_telegram_first(owner):
            raise refused("claim_code_invalid")
        problem = account_merge.refusal(owner, into)
        if problem:
            raise refused(problem)
        if account_tokens.consume(code, "claim") is None:  # a racing claim spent it first
            raise refused("claim_code_invalid")
        return account_merge.merge(rt, owner, into, actor=into, reason="telegram_claim")


def release_telegram(user: User) -> None:
    """Unbind the account from Telegram: its chat links and its Telegram id go (the next message starts afresh)."""
    TelegramLink.delete().where(TelegramLink.user == user).execute()
    User.update(telegram_id=None).where(User.id == user.id).execute()
    sessions.user_changed(user)
    user.telegram_id = None

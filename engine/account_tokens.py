"""One-time account tokens (verify an address, reset a password, sign in by email, claim a Telegram-first account,
accept an invitation): random tokens, only their SHA-256 stored, expiring, spent by one conditional UPDATE so two
clicks or two workers cannot both use one."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

from engine.catalog.durations import parse_duration
from engine.store.models import AccountToken, User

PURPOSES = ("verify", "reset", "magic", "claim", "invite")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _digest(token: str) -> str:
    return hashlib.sha256(str(token).encode()).hexdigest()


def issue(user: User, purpose: str, ttl: str, now: datetime | None = None, token: str | None = None) -> str:
    """A new token for `user` valid for `ttl` (a policy duration); the caller emails it, the database keeps its hash.

    `token` is a caller-made value (a short code to type) instead of the default 256 random bits.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}")
    token = token or secrets.token_urlsafe(32)
    AccountToken.create(token_hash=_digest(token), user=user, purpose=purpose,
                        expires_at=(now or _now()) + parse_duration(ttl))
    return token


def peek(token: str, purpose: str, now: datetime | None = None) -> User | None:
    """The active owner of a live, unused token (to show the reset form), without spending it."""
    row = AccountToken.get_or_none(_usable(token, purpose, now or _now()))
    return row.user if row is not None and row.user.is_active else None


def revoke(user: User, purpose: str, now: datetime | None = None) -> None:
    """Spend every unused token of `user` for `purpose` (a new code replaces the older ones)."""
    AccountToken.update(used_at=now or _now()).where((AccountToken.user == user) & (AccountToken.purpose == purpose)
                                                     & AccountToken.used_at.is_null()).execute()


def consume(token: str, purpose: str, now: datetime | None = None) -> User | None:
    """Spend the token and return its active owner; None when it is unknown, expired, used or of another purpose."""
    now = now or _now()
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    if not AccountToken.update(used_at=now).where(_usable(token, purpose, now)).execute():
        return None
    user = AccountToken.get(AccountToken.token_hash == _digest(token)).user
    if not user.is_active:
        return None
    # The others of the same purpose die with it: an older reset link must not work after a reset.
    revoke(user, purpose, now)
    return user


def _usable(token: str, purpose: str, now: datetime):
    return ((AccountToken.token_hash == _digest(token)) & (AccountToken.purpose == purpose)
            & AccountToken.used_at.is_null() & (AccountToken.expires_at > now))

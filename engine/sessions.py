"""Server-side web sessions: a cookie only carries a random token, so ending a session here ends it everywhere.

Each request resolves the token with the same one query that loads the user (its SQL built once: engine.store.prepared),
or from a process's engine.live_cache, which every change of the session or its user evicts (`user_changed`);
`seen_at` is written at most once a minute. Idle and absolute lifetimes come from `policies.sessions`.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from engine import live_cache
from engine.catalog.durations import parse_duration
from engine.catalog.schema import SessionPolicy
from engine.store.models import User, WebSession
from engine.store.prepared import PreparedSelect

TOUCH_EVERY = timedelta(minutes=1)  # how stale `seen_at` may get before a request refreshes it


_LIVE_SESSION = PreparedSelect(lambda key: (
    WebSession.select(WebSession, User).join(User)
    .where((WebSession.key == key) & (User.is_active == True))  # noqa: E712
    .limit(1)), arity=1)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def session_key(token: str) -> str:
    """What the database stores for a cookie token (a leaked table holds no usable tokens)."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    """A new session of `user`; returns the token to put in the (signed) cookie."""
    token = secrets.token_urlsafe(32)
    WebSession.create(key=session_key(token), user=user)
    return token


def _expired(row: WebSession, policy: SessionPolicy, now: datetime) -> bool:
    return (now - row.seen_at > parse_duration(policy.idle)
            or now - row.created_at > parse_duration(policy.lifetime))


def session_user(token: str, policy: SessionPolicy, now: datetime | None = None,
                 cache: live_cache.LiveCache | None = None) -> User | None:
    """The active user of a live session, or None (an expired session is deleted on the way). With a `cache`, a
    session read within its TTL is not read again (a fresh User object each time: callers may change theirs)."""
    if not isinstance(token, str) or not token:
        return None
    now = now or _now()
    key = session_key(token)
    cached = cache.get(key) if cache is not None else None
    # The cached seen_at is at most the stored one: a session that looks expired or due a touch is read again.
    if cached is not None and not _expired(cached[1], policy, now) and now - cached[1].seen_at <= TOUCH_EVERY:
        return _fresh_user(cached[0])
    fill = cache.token() if cache is not None else 0
    row = _LIVE_SESSION.first(key)
    if row is None:
        return None
    if _expired(row, policy, now):
        row.delete_instance()
        return None
    if now - row.seen_at > TOUCH_EVERY:
        WebSession.update(seen_at=now).where(WebSession.key == row.key).execute()
        row.seen_at = now
    if cache is not None:
        times = _SessionTimes(row.created_at, row.seen_at)
        cache.put(key, (dict(row.user.__data__), times), fill, tags=(live_cache.user_tag(row.user.id),))
    return row.user


class _SessionTimes:
    """The two times `_expired` reads, kept by the cache instead of the whole row."""

    __slots__ = ("created_at", "seen_at")

    def __init__(self, created_at: datetime, seen_at: datetime):
        self.created_at, self.seen_at = created_at, seen_at


def _fresh_user(data: dict) -> User:
    """A User of the cached row, as peewee builds one from a database row (no field defaults, nothing dirty)."""
    user = User.__new__(User)
    user.__data__, user._dirty, user.__rel__ = dict(data), set(), {}
    return user


def user_changed(user: User | int) -> None:
    """The user's row changed (role, activity, name, locale, ...): cached copies of it are dropped in every process
    once the transaction commits."""
    live_cache.changed(live_cache.user_tag(user if isinstance(user, int) else user.id))


def end_session(token: str) -> None:
    """Sign this session out (every copy of its cookie stops working)."""
    if isinstance(token, str) and token:
        key = session_key(token)
        WebSession.delete().where(WebSession.key == key).execute()
        live_cache.changed(key)


def end_user_sessions(user: User, keep: str | None = None) -> int:
    """End every session of `user` but the one whose token is `keep`; returns how many ended."""
    query = WebSession.delete().where(WebSession.user == user)
    if keep:
        query = query.where(WebSession.key != session_key(keep))
    ended = query.execute()
    user_changed(user)
    return ended


def delete_expired(policy: SessionPolicy, now: datetime | None = None) -> int:
    """Forget sessions past their idle or absolute lifetime (the periodic sweep)."""
    now = now or _now()
    return WebSession.delete().where(
        (WebSession.seen_at < now - parse_duration(policy.idle))
        | (WebSession.created_at < now - parse_duration(policy.lifetime))
    ).execute()

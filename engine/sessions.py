"""Server-side web sessions: a cookie only carries a random token, so ending a session here ends it everywhere.

Each request resolves the token with the same one query that loads the user (its SQL built once: engine.store.prepared);
`seen_at` is written at most once a minute. Idle and absolute lifetimes come from `policies.sessions`.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

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


def session_user(token: str, policy: SessionPolicy, now: datetime | None = None) -> User | None:
    """The active user of a live session, or None (an expired session is deleted on the way)."""
    if not isinstance(token, str) or not token:
        return None
    now = now or _now()
    row = _LIVE_SESSION.first(session_key(token))
    if row is None:
        return None
    if _expired(row, policy, now):
        row.delete_instance()
        return None
    if now - row.seen_at > TOUCH_EVERY:
        WebSession.update(seen_at=now).where(WebSession.key == row.key).execute()
    return row.user


def end_session(token: str) -> None:
    """Sign this session out (every copy of its cookie stops working)."""
    if isinstance(token, str) and token:
        WebSession.delete().where(WebSession.key == session_key(token)).execute()


def end_user_sessions(user: User, keep: str | None = None) -> int:
    """End every session of `user` but the one whose token is `keep`; returns how many ended."""
    query = WebSession.delete().where(WebSession.user == user)
    if keep:
        query = query.where(WebSession.key != session_key(keep))
    return query.execute()


def delete_expired(policy: SessionPolicy, now: datetime | None = None) -> int:
    """Forget sessions past their idle or absolute lifetime (the periodic sweep)."""
    now = now or _now()
    return WebSession.delete().where(
        (WebSession.seen_at < now - parse_duration(policy.idle))
        | (WebSession.created_at < now - parse_duration(policy.lifetime))
    ).execute()

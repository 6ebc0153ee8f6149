"""Accounts: argon2 passwords, extra notification emails, Telegram usernames and one-time link tokens."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import IntegrityError, Value

from engine.catalog.durations import parse_duration
from engine.catalog.catalog import Field
from engine.channel_registry import registry
from engine.errors import Conflict, LinkTokenInvalid, NotFound, ValidationFailed
from engine.forms import EMAIL_RE, clean_field
from engine.local_time import is_zone
from engine.runtime import Runtime
from engine.sessions import end_user_sessions, user_changed
from engine.store.models import LinkToken, TelegramLink, User
from engine.store.prepared import PreparedSelect, PreparedWrite

ROLES = ("customer", "agent", "admin")
MAX_NOTIFY_EMAILS = 10
TELEGRAM_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
EMAIL_FIELD = Field(id="email", label="email", type="email", required=True)

_hasher = PasswordHasher()
# Verified when the email is unknown, so a missing account costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def normalize_email(email: str) -> str:
    return str(email or "").strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(email: str, password: str | None, role: str = "customer", name: str = "", locale: str = "ru",
                verified: bool = True) -> User:
    """Create an account; an empty password makes one that cannot log in. Raises Conflict for a taken email.

    `verified=False` (self sign-up) leaves the address unconfirmed until its emailed link is opened.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    email = normalize_email(email)
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise ValueError(f"not an email address: {email!r}")
    try:
        return User.create(email=email, name=name.strip()[:200], role=role, locale=locale,
                           password_hash=hash_password(password) if password else "",
                           email_verified_at=utcnow() if verified else None)
    except IntegrityError:
        raise Conflict(f"a user with email {email} exists") from None


def set_password(user: User, password: str, keep_session: str | None = None) -> None:
    """A new password; every web session of the user ends except `keep_session` (the one that changed it)."""
    _store_hash(user, hash_password(password))
    end_user_sessions(user, keep=keep_session)


def set_role(user: User, role: str) -> None:
    """Change the account's role; its web sessions end, so no page keeps acting with the old one."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    User.update(role=role).where(User.id == user.id).execute()
    user.role = role
    end_user_sessions(user)


def confirm_email(user: User) -> None:
    """Mark the account's address as confirmed (an emailed link of ours was opened), once."""
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        User.update(email_verified_at=user.email_verified_at).where(User.id == user.id).execute()
        user_changed(user)


def _store_hash(user: User, password_hash: str) -> None:
    User.update(password_hash=password_hash).where(User.id == user.id).execute()
    user_changed(user)
    user.password_hash = password_hash


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same cost whether or not the email exists)."""
    user = check_credentials(email, password)
    return user if user is not None and user.is_active else None


def check_credentials(email: str, password: str) -> User | None:
    """The user with this email and password, active or deactivated (sign-in says which), else None.

    Costs one password check whether or not the email exists, so timing tells nothing.
    """
    user = User.get_or_none(User.email == normalize_email(email))
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if stored is _DUMMY_HASH:
        return None
    if _hasher.check_needs_rehash(stored):
        _store_hash(user, hash_password(password))  # same password, stronger hash: sessions stay
    return user


def set_notify_emails(rt: Runtime, user: User, emails: list[str], locale: str | None = None) -> list[str]:
    """Replace the extra notification addresses (a team sharing one account); ValidationFailed names the bad one."""
    catalog = rt.catalog
    locale = locale or user.locale or catalog.policies.default_locale
    clean: list[str] = []
    for raw in emails:
        if not str(raw or "").strip():
            continue
        value, error = clean_field(catalog, EMAIL_FIELD, raw, locale)
        if error:
            raise ValidationFailed({"notify_emails": f"{str(raw)[:254]}: {error}"})
        if value.lower() != user.email and value.lower() not in clean:
            clean.append(value.lower())
    if len(clean) > MAX_NOTIFY_EMAILS:
        raise ValidationFailed({"notify_emails": catalog.text(locale, "validation", "too_many_emails", max=MAX_NOTIFY_EMAILS)})
    User.update(notify_emails=clean).where(User.id == user.id).execute()
    user_changed(user)
    user.notify_emails = clean
    return clean


def normalize_telegram_username(username: str | None) -> str:
    return str(username or "").strip().lstrip("@").lower()


def set_telegram_username(rt: Runtime, user: User, username: str | None, enabled: bool | None = None,
                          locale: str | None = None) -> User:
    """Settings: the customer's Telegram username (entered without @) and "support in Telegram" switch."""
    value = normalize_telegram_username(username)
    if value and not TELEGRAM_USERNAME_RE.match(value):
        locale = locale or user.locale or rt.catalog.policies.default_locale
        raise ValidationFailed({"telegram_username": rt.catalog.text(locale, "validation", "not_telegram_username")})
    changes = {"telegram_username": value or None}
    if enabled is not None:
        changes["support_in_telegram"] = enabled
    User.update(**changes).where(User.id == user.id).execute()
    user_changed(user)
    for key, val in changes.items():
        setattr(user, key, val)
    return user


def set_time_zone(rt: Runtime, user: User, zone: str | None, locale: str | None = None) -> User:
    """Settings: the zone times are shown to this person in (an IANA name); empty means `policies.time_zone`."""
    value = (zone or "").strip() or None
    if value is not None and not is_zone(value):
        locale = locale or user.locale or rt.catalog.policies.default_locale
        raise ValidationFailed({"time_zone": rt.catalog.text(locale, "validation", "unknown_time_zone")})
    User.update(time_zone=value).where(User.id == user.id).execute()
    user_changed(user)
    user.time_zone = value
    return user


# --- Telegram linking ---------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode()).hexdigest()


def _telegram_binding(rt: Runtime, binding: str):
    """The binding, if its channel links chats to accounts (a bot); NotFound otherwise."""
    spec = rt.catalog.channels.get(binding)
    channel = registry.get(spec.kind) if spec is not None else None
    if channel is None or not channel.links_chats:
        raise NotFound(f"telegram binding {binding!r}")
    return spec


def issue_link_token(rt: Runtime, user: User, binding: str) -> str:
    """A one-time token for t.me/<bot>?start=<token>; only its SHA-256 is stored, valid for policies.link_token_ttl."""
    _telegram_binding(rt, binding)
    token = secrets.token_urlsafe(32)
    LinkToken.create(token_hash=_token_hash(token), user=user, binding=binding,
                     expires_at=utcnow() + parse_duration(rt.catalog.policies.link_token_ttl))
    return token


def link_chat(rt: Runtime, user: User, binding: str, chat_id: int, tg_user_id: int, username: str | None) -> TelegramLink:
    """Create or re-point the link of this bot's chat to `user`, bound to the numeric Telegram user id.

    One upsert: of two racing first links of the same chat, the later one re-points the link."""
    link = _LINK.first(binding, int(chat_id), user.id, int(tg_user_id), normalize_telegram_username(username) or None,
                       TelegramLink.linked_at.db_value(utcnow()))
    link.user = user  # the account at hand: `link.user` would read it again
    return link


def consume_link_token(rt: Runtime, token: str, binding: str, chat_id: int, tg_user_id: int, username: str | None,
                       chat_type: str) -> TelegramLink:
    """Link a private chat with the token's owner; the token works once (conditional UPDATE), then never again.

    A token sent in a group chat is spent and refused: the group's members have seen it, so none of them may use it.
    """
    _telegram_binding(rt, binding)
    now = LinkToken.used_at.db_value(utcnow())
    with rt.db.atomic():
        if chat_type == "private":
            spent = _SPEND_FOR_BOT.first(now, _token_hash(token), now, binding)
        else:  # in a group any of our bots spends it, whichever bot it was issued for
            spent = _SPEND.first(now, _token_hash(token), now)
        if spent is not None and chat_type == "private":
            user = _USER.first(spent.user_id)
            if not user.is_active:
                raise LinkTokenInvalid("account disabled")
            return link_chat(rt, user, binding, chat_id, tg_user_id, username)
    if chat_type != "private":
        raise LinkTokenInvalid("link tokens are accepted in private chats only; one sent to a group is spent")
    raise LinkTokenInvalid("unknown, expired or used token")


# /start's statements, their SQL built once (a link is one update in eight of bench_bot's conversations).
def _spend(now, digest, expires_after):
    return (LinkToken.update(used_at=Value(now, converter=False))
            .where((LinkToken.token_hash == digest) & LinkToken.used_at.is_null()
                   & (LinkToken.expires_at > Value(expires_after, converter=False)))
            .returning(LinkToken.user))


_SPEND = PreparedWrite(_spend, arity=3)
_SPEND_FOR_BOT = PreparedWrite(lambda now, digest, expires_after, binding: _spend(now, digest, expires_after).where(
    (LinkToken.binding == binding) | LinkToken.binding.is_null()), arity=4)
_USER = PreparedSelect(lambda user_id: User.select().where(User.id == user_id), arity=1)


def _link(binding, chat_id, user_id, tg_user_id, username, at):
    fields = {TelegramLink.user: user_id, TelegramLink.tg_user_id: tg_user_id, TelegramLink.tg_username: username,
              TelegramLink.active: True, TelegramLink.deactivated_reason: None,
              TelegramLink.linked_at: Value(at, converter=False)}
    return (TelegramLink.insert({TelegramLink.binding: binding, TelegramLink.chat_id: chat_id, **fields})
            .on_conflict(conflict_target=[TelegramLink.binding, TelegramLink.chat_id], update=fields)
            .returning(TelegramLink))


_LINK = PreparedWrite(_link, arity=6)


def link_by_username(rt: Runtime, binding: str, chat_id: int, tg_user_id: int, username: str | None,
                     chat_type: str) -> TelegramLink | None:
    """Seed flow: /start from @name links the one customer who entered `name` in settings; None if nobody or ambiguous."""
    spec = _telegram_binding(rt, binding)
    name = normalize_telegram_username(username)
    if chat_type != "private" or not getattr(spec, "link_by_username", False) or not name:
        return None
    query = User.select().where((User.telegram_username == name) & User.is_active & (User.role == "customer"))
    if "tickets" in spec.serves:
        # Seed 000: the support bot also needs "Включить работу с поддержкой" ticked in the settings.
        query = query.where(User.support_in_telegram)
    users = list(query.limit(2))
    if len(users) != 1:
        return None
    return link_chat(rt, users[0], binding, chat_id, tg_user_id, username)


def linked_user(binding: str, chat_id: int, tg_user_id: int) -> User | None:
    """The customer an active link of this chat belongs to, only if the message comes from the linked Telegram user."""
    link = _ACTIVE_LINK.first(binding, int(chat_id))
    if link is None or link.tg_user_id != int(tg_user_id) or not link.user.is_active:
        return None
    return link.user


# The link with its account in one query whose SQL is built once: this runs for every Telegram update.
_ACTIVE_LINK = PreparedSelect(lambda binding, chat_id: (
    TelegramLink.select(TelegramLink.tg_user_id, User).join(User)
    .where((TelegramLink.binding == binding) & (TelegramLink.chat_id == chat_id) & TelegramLink.active)
    .limit(1)), arity=2)


def unlink(binding: str, chat_id: int, reason: str) -> bool:
    """Deactivate a chat's link (the customer asked, or Telegram said the bot is blocked)."""
    return bool(TelegramLink.update(active=False, deactivated_reason=reason[:200]).where(
        (TelegramLink.binding == binding) & (TelegramLink.chat_id == int(chat_id)) & TelegramLink.active
    ).execute())

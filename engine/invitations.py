"""Invitations: staff invite a customer by email; the emailed one-time link sets a password and confirms the address.

An invited account is a customer without a password until its link is opened (`pending`). Invitations work in the
sign-up modes `open`, `domains` (to any address: staff decide) and `invite` (the only way in); `closed` refuses them.
A resent invitation replaces the link before it. Floods are refused per inviting staff member and per address
(`policies.signup.invitations_per_hour` / `invitations_per_address`, fixed one-hour windows in Redis).
Refusals are `InvalidValue` whose key names a text of the catalog's `validation` section.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from peewee import IntegrityError

from engine import account_tokens, accounts, audit, sessions, signup
from engine.errors import Conflict, InvalidValue, PermissionDenied
from engine.forms import EMAIL_RE, undeliverable
from engine.notify import enqueue_deliveries
from engine.rate_windows import window_exceeded
from engine.runtime import Runtime
from engine.store.models import AccountToken, Ticket, User

INVITE_PATH = "/invite/{token}"  # the web page that accepts one (web/account.py); the CLI builds links with it
EMAIL_TYPE = "account_invite"
WINDOW = 3600  # seconds of the invitation rate windows


def pending(user: User) -> bool:
    """An active account that has not set a password yet: an invitation can (still) be sent to it."""
    return user.is_active and not user.password_hash


def enabled(rt: Runtime) -> bool:
    """Whether the sign-up mode lets staff invite (every mode but `closed`)."""
    return rt.catalog.policies.signup.mode != "closed"


def invited_ids(user_ids) -> set[int]:
    """Which of these accounts were ever sent an invitation (for the users list)."""
    ids = list(user_ids)
    if not ids:
        return set()
    query = AccountToken.select(AccountToken.user).where(AccountToken.user.in_(ids) & (AccountToken.purpose == "invite"))
    return {row.user_id for row in query.distinct()}


def invite(rt: Runtime, email: str, actor: audit.Actor, link_for: signup.LinkFor, name: str = "",
           locale: str | None = None) -> User:
    """Invite `email`: a new customer account without a password (or the pending one already there) gets the link.

    InvalidValue: mode `closed`, not an address, the address already has an account with a password or a
    deactivated one, no invitation email in the config, or too many invitations.
    """
    _check_allowed(rt, actor)
    email = _clean_email(email)
    existing = User.get_or_none(User.email == email)
    if existing is not None:
        _check_pending(existing)
    _limit(rt, actor, email)
    if existing is not None:
        return _send(rt, existing, actor, link_for, "invite_resend")
    try:
        with rt.db.atomic():
            user = accounts.create_user(email, None, name=name, locale=locale or rt.catalog.policies.default_locale,
                                        verified=False)
    except Conflict:  # invited by someone else a moment ago: send theirs again
        user = User.get(User.email == email)
        _check_pending(user)
        return _send(rt, user, actor, link_for, "invite_resend")
    return _send(rt, user, actor, link_for, "invite")


def resend(rt: Runtime, user: User, actor: audit.Actor, link_for: signup.LinkFor) -> User:
    """A fresh link for a pending invitation; the one before stops working."""
    _check_allowed(rt, actor)
    user = User.get_by_id(user.id)  # as stored now: the invitation may have been accepted meanwhile
    _check_pending(user)
    _limit(rt, actor, user.email)
    return _send(rt, user, actor, link_for, "invite_resend")


def invite_ticket_customer(rt: Runtime, ticket: Ticket, email: str, actor: audit.Actor,
                           link_for: signup.LinkFor) -> User:
    """Invite the customer of a ticket that came without a web account (events API, Telegram) at `email`.

    The address becomes the account's (unconfirmed until the link is opened); an address of another account is
    refused (`email_taken`), as is a customer who already has a password.
    """
    _check_allowed(rt, actor)
    customer = User.get_by_id(ticket.customer_id)
    _check_pending(customer)
    email = _clean_email(email)
    if email != customer.email:
        if User.select().where(User.email == email).exists():
            raise InvalidValue("email_taken")
        _limit(rt, actor, email)
        try:
            with rt.db.atomic():
                User.update(email=email, email_verified_at=None).where(User.id == customer.id).execute()
                sessions.user_changed(customer)
        except IntegrityError:  # taken a moment ago
            raise InvalidValue("email_taken") from None
        customer.email, customer.email_verified_at = email, None
    else:
        _limit(rt, actor, email)
    return _send(rt, customer, actor, link_for, "invite", ticket=ticket.number)


def accept(rt: Runtime, token: str, password: str, name: str, locale: str, now: datetime | None = None) -> User | None:
    """Set the password (and name) of an invited account with its token: the address counts as confirmed.

    None for an unknown, expired, replaced or used link; ValidationFailed for a password the policy refuses (the
    link stays usable).
    """
    owner = account_tokens.peek(token, "invite", now)
    if owner is None:
        return None
    signup.check_password(rt, password, owner.email, locale)
    with rt.db.atomic():
        user = account_tokens.consume(token, "invite", now)
        if user is None:
            return None
        accounts.set_password(user, password)
        accounts.confirm_email(user)
        changes = {"locale": locale}
        if name.strip() and not user.name:
            changes["name"] = name.strip()[:200]
        User.update(**changes).where(User.id == user.id).execute()
        sessions.user_changed(user)
        audit.record(user, "invite_accepted", user)
    return User.get_by_id(user.id)


def _check_allowed(rt: Runtime, actor: audit.Actor) -> None:
    if isinstance(actor, User) and not actor.is_staff:
        raise PermissionDenied("only staff invite")
    if not enabled(rt):
        raise InvalidValue("invite_closed")
    if EMAIL_TYPE not in rt.catalog.notification_types or not rt.catalog.bindings(kind="email"):
        raise InvalidValue("invite_no_email")


def _check_pending(user: User) -> None:
    if not user.is_active:
        raise InvalidValue("invite_deactivated")
    if user.password_hash:
        raise InvalidValue("invite_has_account")


def _clean_email(email: str) -> str:
    email = accounts.normalize_email(email)
    if len(email) > 254 or not EMAIL_RE.match(email) or undeliverable(email):  # not a placeholder either
        raise InvalidValue("not_email")
    return email


def _limit(rt: Runtime, actor: audit.Actor, email: str) -> None:
    """Count this invitation against its address and, for a signed-in inviter, against them; InvalidValue when over."""
    policy = rt.catalog.policies.signup
    limits = [(f"invite:to:{hashlib.sha256(email.encode()).hexdigest()[:32]}", policy.invitations_per_address)]
    if isinstance(actor, User):  # a shell user (the CLI) is trusted with bulk invitations
        limits.append((f"invite:by:{actor.id}", policy.invitations_per_hour))
    if window_exceeded(rt.redis, WINDOW, limits):
        raise InvalidValue("invite_rate_limited")


def _inviter(rt: Runtime, actor: audit.Actor, user: User) -> str:
    """Who invites, as the email names them: the staff member, or the service itself for a command."""
    if isinstance(actor, User):
        return actor.name or actor.email
    return rt.catalog.text(user.locale or rt.catalog.policies.default_locale, "email", "sender_name")


def _send(rt: Runtime, user: User, actor: audit.Actor, link_for: signup.LinkFor, action: str, **detail) -> User:
    with rt.db.atomic():
        account_tokens.revoke(user, "invite")
        token = account_tokens.issue(user, "invite", rt.catalog.policies.signup.invitation_ttl)
        notification_id = signup.account_email(rt, user, EMAIL_TYPE,
                                               {"link": link_for(token), "inviter": _inviter(rt, actor, user)})
        audit.record(actor, action, user, **detail)
    enqueue_deliveries(rt, [notification_id] if notification_id else [])
    return user


"""Self-service accounts under `policies.signup`: sign-up with email verification, password reset and sign-in links
by email.

Every answer is the same whether or not an address has an account ("check your email"); what differs is only the
email that address receives. Emails go through the outbox (Notification + one email Delivery to the account's own
address, never its extra notification addresses) from the `account` notification types of the config.
"""
from __future__ import annotations

from typing import Callable

from engine import account_tokens, accounts, common_passwords, telegram_first
from engine.errors import Conflict, ValidationFailed
from engine.forms import EMAIL_RE, undeliverable
from engine.notify import enqueue_deliveries
from engine.runtime import Runtime
from engine.store.models import Delivery, Notification, User

LinkFor = Callable[[str], str]  # token -> the absolute URL the email carries


def signup_open(rt: Runtime) -> bool:
    """Whether the public sign-up page exists (modes open and domains)."""
    return rt.catalog.policies.signup.mode in ("open", "domains")


def needs_verification(rt: Runtime, user: User) -> bool:
    """True while the policy requires a confirmed address and `user` has not confirmed theirs."""
    return rt.catalog.policies.signup.require_verification and user.email_verified_at is None


def _error(rt: Runtime, locale: str, field: str, key: str, **params) -> ValidationFailed:
    return ValidationFailed({field: rt.catalog.text(locale, "validation", key, **params)})


def check_password(rt: Runtime, password: str, email: str, locale: str) -> None:
    """ValidationFailed (field `password`) when `password` breaks `policies.passwords`."""
    rules = rt.catalog.policies.passwords
    if len(password) < rules.min_length:
        raise _error(rt, locale, "password", "password_too_short", min=rules.min_length)
    if len(password) > rules.max_length:
        raise _error(rt, locale, "password", "too_long", max=rules.max_length)
    local = email.split("@")[0]
    if rules.not_email and email and (email in password.lower() or (len(local) >= 4 and local in password.lower())):
        raise _error(rt, locale, "password", "password_has_email")
    if rules.not_common and common_passwords.is_common(password):
        raise _error(rt, locale, "password", "password_common")


def sign_up(rt: Runtime, email: str, password: str, name: str, locale: str, link_for: LinkFor, forgot_url: str,
            claim_code: str = "") -> None:
    """Create an account and email its verification link; a taken address gets an email pointing to `forgot_url`.

    A `claim_code` from the support bot merges that Telegram-first account into the new one (engine.telegram_first);
    a taken address leaves the code unspent. ValidationFailed for a refused domain, a bad address, password or code
    (the same for taken and free addresses); PermissionError when the policy has no public sign-up.
    """
    policy = rt.catalog.policies.signup
    if not signup_open(rt):
        raise PermissionError("sign-up is not open")
    email = accounts.normalize_email(email)
    if len(email) > 254 or not EMAIL_RE.match(email) or undeliverable(email):
        raise _error(rt, locale, "email", "not_email")
    if policy.mode == "domains" and email.rsplit("@", 1)[1] not in policy.domains:
        raise _error(rt, locale, "email", "signup_domain_refused")
    check_password(rt, password, email, locale)
    claim_code = claim_code.strip() if telegram_first.enabled(rt) else ""
    if claim_code and telegram_first.claim_owner(claim_code) is None:
        raise _error(rt, locale, "code", "claim_code_invalid")
    ids = []
    with rt.db.atomic():
        try:
            with rt.db.atomic():  # a savepoint: a lost race leaves the outer transaction usable on PostgreSQL
                user = accounts.create_user(email, password, name=name, locale=locale,
                                            verified=not policy.require_verification)
        except Conflict:
            accounts.hash_password(password)  # the same cost as creating the account: timing tells nothing
            existing = User.get(User.email == email)
            ids.append(account_email(rt, existing, "account_exists", {"link": forgot_url}))
        else:
            if claim_code:
                telegram_first.claim(rt, claim_code, user, locale)
            if policy.require_verification:
                token = account_tokens.issue(user, "verify", policy.verification_ttl)
                ids.append(account_email(rt, user, "account_verify", {"link": link_for(token)}))
    enqueue_deliveries(rt, [i for i in ids if i])


def resend_verification(rt: Runtime, user: User, link_for: LinkFor) -> None:
    """A fresh verification link for an unconfirmed account (the caller rate-limits)."""
    if user.email_verified_at is not None:
        return
    token = account_tokens.issue(user, "verify", rt.catalog.policies.signup.verification_ttl)
    with rt.db.atomic():
        notification_id = account_email(rt, user, "account_verify", {"link": link_for(token)})
    enqueue_deliveries(rt, [notification_id] if notification_id else [])


def verify(rt: Runtime, token: str) -> User | None:
    """Confirm the address of the token's owner; None for an unknown, expired or used token."""
    with rt.db.atomic():
        user = account_tokens.consume(token, "verify")
        if user is not None:
            accounts.confirm_email(user)
    return user


def request_reset(rt: Runtime, email: str, link_for: LinkFor) -> None:
    """Email a one-time reset link when an active account has this address; otherwise nothing (same answer)."""
    user = _mailable_account(email)
    if user is not None:
        send_reset(rt, user, link_for)


def send_reset(rt: Runtime, user: User, link_for: LinkFor) -> None:
    """Email `user` a one-time reset link (forgotten password, or staff sending one from the users page)."""
    with rt.db.atomic():
        token = account_tokens.issue(user, "reset", rt.catalog.policies.signup.reset_ttl)
        notification_id = account_email(rt, user, "password_reset", {"link": link_for(token)})
    enqueue_deliveries(rt, [notification_id] if notification_id else [])


def reset_password(rt: Runtime, token: str, password: str, locale: str) -> User | None:
    """Set a new password with a reset token: every session of the account ends, the address counts as confirmed.

    None for an unusable token; ValidationFailed for a password the policy refuses (the token stays usable).
    """
    owner = account_tokens.peek(token, "reset")
    if owner is None:
        return None
    check_password(rt, password, owner.email, locale)
    with rt.db.atomic():
        user = account_tokens.consume(token, "reset")
        if user is None:
            return None
        accounts.set_password(user, password)
        _address_proven(user)
    return user


def _address_proven(user: User) -> None:
    """The emailed link reached the mailbox: the address is confirmed. On an account never confirmed before, whoever
    signed it up may not have owned the address, so the Telegram chats they bound go with their sessions."""
    if user.email_verified_at is None:
        telegram_first.release_telegram(user)
    accounts.confirm_email(user)


def request_sign_in_link(rt: Runtime, email: str, link_for: LinkFor) -> None:
    """Email a one-time sign-in link when the policy offers it and an active account has this address; otherwise
    nothing (the caller answers the same and equalizes the time)."""
    if not rt.catalog.policies.signup.magic_link:
        raise PermissionError("sign-in links are off")
    user = _mailable_account(email)
    if user is None:
        return
    with rt.db.atomic():
        token = account_tokens.issue(user, "magic", rt.catalog.policies.signup.magic_link_ttl)
        notification_id = account_email(rt, user, "sign_in_link", {"link": link_for(token)})
    enqueue_deliveries(rt, [notification_id] if notification_id else [])


def sign_in_with_link(rt: Runtime, token: str) -> User | None:
    """Spend a sign-in link and return its active owner (the address counts as confirmed); None when unusable."""
    if not rt.catalog.policies.signup.magic_link:
        return None
    with rt.db.atomic():
        user = account_tokens.consume(token, "magic")
        if user is not None:
            _address_proven(user)
    return user


def _mailable_account(email: str) -> User | None:
    """The active account with this address, if the address can receive email (not a Telegram-first placeholder)."""
    user = User.get_or_none((User.email == accounts.normalize_email(email)) & User.is_active)
    return user if user is not None and not undeliverable(user.email) else None


def account_email(rt: Runtime, user: User, type_id: str, params: dict) -> int | None:
    """An outbox email of `type_id` to the account's own address; None when the config has no such type or no email
    binding, or the account has no address of its own (a Telegram-first placeholder)."""
    if type_id not in rt.catalog.notification_types or not rt.catalog.bindings(kind="email") or undeliverable(user.email):
        return None
    notification = Notification.create(user=user, type_id=type_id, params=params, in_app=False)
    Delivery.create(notification=notification, channel="email", target=user.email)
    return notification.id

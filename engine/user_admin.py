"""Managing accounts (the admin users page, `run.py user`): the list, role changes, deactivation, reset links.

Every change is audited (engine.audit). Only admins (or a shell user through the CLI) change roles and (de)activate
accounts; agents may send a customer a reset link. Refusals are `InvalidValue` naming a `validation` text: the last
active admin keeps its role and stays active, and nobody demotes or deactivates themselves.
"""
from __future__ import annotations

from engine import accounts, audit, invitations, signup
from engine.errors import InvalidValue, PermissionDenied
from engine.forms import undeliverable
from engine.pagination import Keyset, Page, paginate
from engine.runtime import Runtime
from engine.sessions import end_user_sessions
from engine.store.models import AuditLog, TelegramLink, User

SEARCH_LIMIT = 100  # characters of a search
_BY_EMAIL = Keyset((User.email,))  # unique: the key alone orders the list


def user_page(search: str = "", role: str | None = None, after: str | None = None, before: str | None = None,
              size: int = 50) -> Page:
    """Accounts by email, filtered by a part of the email or name (case-insensitive) and a role; with the total."""
    query = User.select()
    search = (search or "").strip()[:SEARCH_LIMIT]
    if search:
        query = query.where(User.email.contains(search.lower()) | User.name.contains(search))
    if role:
        if role not in accounts.ROLES:
            raise ValueError(f"role must be one of {', '.join(accounts.ROLES)}")
        query = query.where(User.role == role)
    return paginate(query, _BY_EMAIL, after=after, before=before, size=size)


def states(users) -> dict[int, str]:
    """Each account's state by id: deactivated, invited (no password yet), no_password (never invited: an account of
    the events API or Telegram), unverified (address not confirmed) or active."""
    users = list(users)
    invited = invitations.invited_ids(u.id for u in users)

    def state(user: User) -> str:
        if not user.is_active:
            return "deactivated"
        if invitations.pending(user):
            return "invited" if user.id in invited else "no_password"
        return "active" if user.email_verified_at else "unverified"

    return {user.id: state(user) for user in users}


def telegram_links(user: User) -> list[TelegramLink]:
    """The account's Telegram chats, active ones first."""
    return list(TelegramLink.select().where(TelegramLink.user == user)
                .order_by(TelegramLink.active.desc(), TelegramLink.linked_at.desc()))


def history(user: User, limit: int = 50) -> list[AuditLog]:
    """The newest audit rows about `user` (engine.audit.about)."""
    return list(audit.about(user).order_by(AuditLog.id.desc()).limit(limit))


def set_role(rt: Runtime, actor: audit.Actor, user: User, role: str) -> None:
    """Change the role (its sessions end); refused for oneself and for the last active admin."""
    _require_admin(actor)
    if role not in accounts.ROLES:
        raise InvalidValue("role_unknown")
    if role == user.role:
        return
    if _is_self(actor, user):
        raise InvalidValue("own_role")
    old = user.role
    with rt.db.atomic():
        if old == "admin":
            _keep_an_admin(rt, user)
        accounts.set_role(user, role)
        audit.record(actor, "user_role", user, old=old, new=role)


def deactivate(rt: Runtime, actor: audit.Actor, user: User) -> None:
    """Block the account: its sessions end, sign-in and its links stop working; refused for oneself and the last admin."""
    _require_admin(actor)
    if not user.is_active:
        return
    if _is_self(actor, user):
        raise InvalidValue("own_deactivation")
    with rt.db.atomic():
        if user.role == "admin":
            _keep_an_admin(rt, user)
        User.update(is_active=False).where(User.id == user.id).execute()
        user.is_active = False
        ended = end_user_sessions(user)
        audit.record(actor, "user_deactivate", user, sessions_ended=ended)


def reactivate(rt: Runtime, actor: audit.Actor, user: User) -> None:
    """Let a deactivated account sign in again."""
    _require_admin(actor)
    if user.is_active:
        return
    with rt.db.atomic():
        User.update(is_active=True).where(User.id == user.id).execute()
        user.is_active = True
        audit.record(actor, "user_reactivate", user)


def send_reset_link(rt: Runtime, actor: audit.Actor, user: User, link_for: signup.LinkFor) -> None:
    """Email the account a one-time password reset link; agents may do it for customers only."""
    if isinstance(actor, User) and not (actor.role == "admin" or (actor.is_staff and user.role == "customer")):
        raise PermissionDenied("agents send reset links to customers only")
    if not user.is_active:
        raise InvalidValue("invite_deactivated")
    if undeliverable(user.email):
        raise InvalidValue("user_no_email")
    signup.send_reset(rt, user, link_for)
    audit.record(actor, "user_reset_link", user)


def _require_admin(actor: audit.Actor) -> None:
    if isinstance(actor, User) and actor.role != "admin":
        raise PermissionDenied("only admins change roles and deactivate accounts")


def _is_self(actor: audit.Actor, user: User) -> bool:
    return isinstance(actor, User) and actor.id == user.id


def _keep_an_admin(rt: Runtime, leaving: User) -> None:
    """InvalidValue unless another active admin stays. Every admin row is locked in id order, so two admins demoting
    each other at once are serialized and the second sees the first's change (SQLite's writes are serial already)."""
    admins = User.select(User.id).where((User.role == "admin") & User.is_active).order_by(User.id)
    if rt.db.for_update:
        admins = admins.for_update()
    if not any(row.id != leaving.id for row in admins):
        raise InvalidValue("last_admin")

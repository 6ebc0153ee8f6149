"""`run.py user list | set-role | deactivate | reactivate | invite`: the admin users page from a shell.

Changes are audited with the shell user as the actor (`cli:<user>@<host>`, as `config reload` records it) and follow
the page's rules: the last active admin keeps its role, a deactivated account's sessions end.
"""
from __future__ import annotations

import argparse

from engine import accounts, invitations, user_admin
from engine.config_versions import this_user
from engine.errors import InvalidValue
from engine.runtime import Runtime, start_runtime
from engine.settings import from_env
from engine.store.models import User

LIST_PAGE = 200  # rows fetched per query while listing


def register(user_sub) -> None:
    listing = user_sub.add_parser("list", help="list accounts (email, role, state, name)")
    listing.add_argument("--role", choices=accounts.ROLES)
    listing.add_argument("--search", default="", help="a part of the email or name")
    listing.set_defaults(func=_list)
    role = user_sub.add_parser("set-role", help="change the role; the account's web sessions end")
    role.add_argument("--email", required=True)
    role.add_argument("--role", choices=accounts.ROLES, required=True)
    role.set_defaults(func=_set_role)
    for name, func, text in (("deactivate", _deactivate, "block sign-in; the account's web sessions end"),
                             ("reactivate", _reactivate, "let a deactivated account sign in again")):
        command = user_sub.add_parser(name, help=text)
        command.add_argument("--email", required=True)
        command.set_defaults(func=func)
    invite = user_sub.add_parser("invite", help="email a customer an invitation link (sets a password, confirms the address)")
    invite.add_argument("--email", required=True)
    invite.add_argument("--name", default="")
    invite.set_defaults(func=_invite)


def _list(args: argparse.Namespace) -> int:
    _runtime()
    after, shown = None, 0
    while True:
        page = user_admin.user_page(args.search, args.role, after=after, size=LIST_PAGE)
        for user in page.rows:
            print(f"{user.email}\t{user.role}\t{_state(user)}\t{user.name}")
        shown += len(page.rows)
        if page.next is None:
            break
        after = page.next
    print(f"{shown} account(s)")
    return 0


def _state(user: User) -> str:
    if not user.is_active:
        return "deactivated"
    if invitations.pending(user):
        return "invited" if invitations.invited_ids([user.id]) else "no-password"
    return "active" if user.email_verified_at else "unverified"


def _set_role(args: argparse.Namespace) -> int:
    return _change(args.email, lambda rt, user: user_admin.set_role(rt, this_user("cli"), user, args.role),
                   lambda user: f"{user.email} is now {user.role}; its sessions ended")


def _deactivate(args: argparse.Namespace) -> int:
    return _change(args.email, lambda rt, user: user_admin.deactivate(rt, this_user("cli"), user),
                   lambda user: f"{user.email} is deactivated; its sessions ended")


def _reactivate(args: argparse.Namespace) -> int:
    return _change(args.email, lambda rt, user: user_admin.reactivate(rt, this_user("cli"), user),
                   lambda user: f"{user.email} is active again")


def _invite(args: argparse.Namespace) -> int:
    rt = _runtime()

    def link_for(token: str) -> str:
        return rt.settings.public_url + invitations.INVITE_PATH.format(token=token)

    try:
        user = invitations.invite(rt, args.email, this_user("cli"), link_for, name=args.name)
    except InvalidValue as exc:
        return _refused(rt, exc)
    print(f"invitation sent to {user.email}")
    return 0


def _change(email: str, action, done) -> int:
    rt = _runtime()
    user = User.get_or_none(User.email == accounts.normalize_email(email))
    if user is None:
        print(f"error: no account {email}")
        return 1
    try:
        action(rt, user)
    except InvalidValue as exc:
        return _refused(rt, exc)
    print(done(user))
    return 0


def _refused(rt: Runtime, exc: InvalidValue) -> int:
    print(f"error: {rt.catalog.text('en', 'validation', exc.key, **exc.params)}")
    return 1


def _runtime() -> Runtime:
    return start_runtime(from_env())

"""`run.py user list | set-role | deactivate | reactivate | invite`: the admin users page from a shell.

Changes are audited with the shell user as the actor (`cli:<user>@<host>`, as `config reload` records it) and follow
the page's rules: the last active admin keeps its role, a deactivated account's sessions end.
"""
from __future__ import annotations

import argparse
from functools import wraps

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


def _with_runtime(command):
    """Run `command(args, rt)` on a Runtime of its own, closed afterwards (its config follower stops)."""

    @wraps(command)
    def run(args: argparse.Namespace) -> int:
        rt = start_runtime(from_env())
        try:
            return command(args, rt)
        finally:
            rt.catalogs.close()

    return run


@_with_runtime
def _list(args: argparse.Namespace, rt: Runtime) -> int:
    after, shown = None, 0
    while True:
        page = user_admin.user_page(args.search, args.role, after=after, size=LIST_PAGE)
        states = user_admin.states(page.rows)
        for user in page.rows:
            print(f"{user.email}\t{user.role}\t{states[user.id]}\t{user.name}")
        shown += len(page.rows)
        if page.next is None:
            break
        after = page.next
    print(f"{shown} account(s)")
    return 0


@_with_runtime
def _set_role(args: argparse.Namespace, rt: Runtime) -> int:
    return _change(rt, args.email, lambda rt, user: user_admin.set_role(rt, this_user("cli"), user, args.role),
                   lambda user: f"{user.email} is now {user.role}; its sessions ended")


@_with_runtime
def _deactivate(args: argparse.Namespace, rt: Runtime) -> int:
    return _change(rt, args.email, lambda rt, user: user_admin.deactivate(rt, this_user("cli"), user),
                   lambda user: f"{user.email} is deactivated; its sessions ended")


@_with_runtime
def _reactivate(args: argparse.Namespace, rt: Runtime) -> int:
    return _change(rt, args.email, lambda rt, user: user_admin.reactivate(rt, this_user("cli"), user),
                   lambda user: f"{user.email} is active again")


@_with_runtime
def _invite(args: argparse.Namespace, rt: Runtime) -> int:
    def link_for(token: str) -> str:
        return rt.settings.public_url + invitations.INVITE_PATH.format(token=token)

    try:
        user = invitations.invite(rt, args.email, this_user("cli"), link_for, name=args.name)
    except InvalidValue as exc:
        return _refused(rt, exc)
    print(f"invitation sent to {user.email}")
    return 0


def _change(rt: Runtime, email: str, action, done) -> int:
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


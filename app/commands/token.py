"""`run.py token add|revoke|list`: manage events API tokens."""
from __future__ import annotations

import argparse
import sys

from engine.api_tokens import create_token, list_tokens, revoke_token
from engine.errors import NotFound
from engine.settings import from_env
from engine.store.db import init_database


def _open_database() -> None:
    init_database(from_env())


def _add(args: argparse.Namespace) -> int:
    _open_database()
    token, secret = create_token(args.name)
    print(f"token {token.id} ({token.name}); shown only now, store it safely:", file=sys.stderr)
    print(secret)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    _open_database()
    try:
        count = revoke_token(args.name)
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"revoked {count} token(s)")
    return 0


def _list(_args: argparse.Namespace) -> int:
    _open_database()
    for token in list_tokens():
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
        print(f"{token.id}\t{token.name}\t{token.created_at:%Y-%m-%d %H:%M}\t{state}")
    return 0


def register(subparsers) -> None:
    token = subparsers.add_parser("token", help="manage events API tokens")
    actions = token.add_subparsers(dest="token_command", required=True)
    add = actions.add_parser("add", help="issue a token and print it once")
    add.add_argument("name")
    add.set_defaults(func=_add)
    revoke = actions.add_parser("revoke", help="revoke tokens by name or id")
    revoke.add_argument("name", metavar="NAME_OR_ID")
    revoke.set_defaults(func=_revoke)
    actions.add_parser("list", help="list tokens (never their secrets)").set_defaults(func=_list)

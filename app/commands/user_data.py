"""`run.py user export EMAIL -o FILE` and `run.py user erase EMAIL --yes`: a customer's data rights from a shell."""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from engine import accounts, customer_data
from engine.config_versions import this_user
from engine.errors import PermissionDenied
from engine.runtime import start_runtime
from engine.settings import from_env
from engine.store.models import User


def register(user_sub) -> None:
    """Add the data-rights subcommands to `run.py user`."""
    export = user_sub.add_parser("export", help="write one customer's data (tickets, messages, files, notifications) as a zip")
    export.add_argument("email")
    export.add_argument("-o", "--output", required=True, help="the zip file to write")
    export.set_defaults(func=_export)
    erase = user_sub.add_parser("erase", help="erase one customer's personal data; tickets stay, anonymised")
    erase.add_argument("email")
    erase.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    erase.set_defaults(func=_erase)


def _customer(email: str):
    rt = start_runtime(from_env())
    user = User.get_or_none(User.email == accounts.normalize_email(email))
    if user is None:
        print(f"error: no account {email}")
    return rt, user


def _export(args: argparse.Namespace) -> int:
    rt, user = _customer(args.email)
    if user is None:
        return 1
    target = Path(args.output)
    # Written beside the target and renamed: a failed export leaves no half zip under the asked name.
    handle, partial = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            count = customer_data.export_customer(rt, user, out, by=this_user("cli"))
        os.replace(partial, target)
    except PermissionDenied as exc:
        print(f"error: {exc}")
        return 1
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    print(f"exported {user.email}: {count} ticket(s) to {target}")
    return 0


def _erase(args: argparse.Namespace) -> int:
    if not args.yes:
        print("error: erasing cannot be undone; add --yes to confirm")
        return 2
    rt, user = _customer(args.email)
    if user is None:
        return 1
    try:
        report = customer_data.erase_customer(rt, user, by=this_user("cli"))
    except PermissionDenied as exc:
        print(f"error: {exc}")
        return 1
    print(f"erased account {report.user_id}: {report.tickets} ticket(s) anonymised, {report.messages} message(s) "
          f"cleared, {report.files} file(s) and {report.notifications} notification(s) removed, "
          f"{report.telegram_links} Telegram link(s) removed, sessions ended")
    return 0

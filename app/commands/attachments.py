"""`run.py attachments gc [--grace 1d] [--dry-run]`: delete attachment contents nothing refers to (run it daily)."""
from __future__ import annotations

import argparse
import sys

from engine.attachment_gc import GRACE, collect_unreferenced
from engine.blobstore import open_store
from engine.catalog.durations import parse_duration
from engine.clock import utcnow
from engine.errors import StorageUnavailable
from engine.settings import from_env
from engine.store.db import init_database


def _gc(args: argparse.Namespace) -> int:
    settings = from_env()
    init_database(settings)
    store = open_store(settings)
    try:
        result = collect_unreferenced(store, utcnow(), grace=args.grace, dry_run=args.dry_run)
    except StorageUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{store.kind} store: {result.scanned} blob(s) older than {args.grace}, {verb} {len(result.deleted)} unreferenced")
    return 0


def _duration(text: str):
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers) -> None:
    attachments = subparsers.add_parser("attachments", help="attachment storage maintenance")
    actions = attachments.add_subparsers(dest="attachments_command", required=True)
    gc = actions.add_parser("gc", help="delete stored files no ticket refers to, older than --grace")
    gc.add_argument("--grace", type=_duration, default=GRACE, metavar="DURATION",
                    help="only files last written before this long ago (default 1d; e.g. 12h, 7d)")
    gc.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    gc.set_defaults(func=_gc)

"""`run.py config ...`: check, schema, reload (first version; H1 completes)."""
from __future__ import annotations

import argparse

from engine.catalog.loader import ConfigErrors, load_catalog
from engine.settings import from_env


def register(subparsers) -> None:
    config = subparsers.add_parser("config", help="check, export the schema of, or reload the YAML catalog")
    sub = config.add_subparsers(dest="config_command", required=True)
    check = sub.add_parser("check", help="validate the config and print a summary")
    check.add_argument("--config", help="config folder (default: HELPDESK_CONFIG or ./config)")
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    config_dir = args.config or from_env().config_dir
    try:
        catalog = load_catalog(config_dir)
    except ConfigErrors as exc:
        for error in exc.errors:
            print(error)
        return 1
    topics = len(catalog.all_topics())
    print(f"OK: {len(catalog.categories)} categories, {topics} topics, {len(catalog.forms)} forms, "
          f"{len(catalog.notification_types)} notification types, version {catalog.version}")
    return 0

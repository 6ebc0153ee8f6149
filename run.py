#!/usr/bin/env python3
"""The single entry point: `python run.py <command>`; each area registers its own subcommands."""
from __future__ import annotations

import argparse
import importlib
import signal
import sys

from engine.logsafe import configure_logging

# Each module exposes register(subparsers); a subcommand sets `func(args) -> int` as its default.
COMMAND_MODULES = [
    "engine.catalog.commands",
    "engine.store.commands",
    "engine.dev",
    "engine.worker",
    "engine.token_commands",
    "web.commands",
    "channels.telegram.commands",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py", description="Config-driven helpdesk engine")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    # SIGTERM exits like Ctrl-C: atexit hooks run, so an embedded Redis started here is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    args = build_parser().parse_args(argv)
    configure_logging()  # every process: web, worker, bot, dev and one-shot commands
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())

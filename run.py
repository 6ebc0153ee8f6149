#!/usr/bin/env python3
"""The single entry point: `python run.py <command>`; each area registers its own subcommands."""
from __future__ import annotations

import argparse
import importlib
import sys

from channels import ensure_channels
from engine.logsafe import configure_logging
from engine.stop_signals import PENDING_STOP, exit_on_stop

# Each module exposes register(subparsers) for the commands listed with it; a subcommand sets `func(args) -> int`
# as its default. Only the named command's module is imported, so a command fails fast without loading the rest.
COMMAND_MODULES = {
    "app.commands.config": ("config",),
    "app.commands.db": ("db", "user", "demo"),
    "app.commands.dev": ("dev",),
    "app.worker": ("worker",),
    "app.commands.token": ("token",),
    "app.commands.attachments": ("attachments",),
    "app.commands.web": ("web",),
    "app.commands.bot": ("bot",),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of `command`'s module, or of every command when it is None or unknown (help, usage errors)."""
    parser = argparse.ArgumentParser(prog="run.py", description="Config-driven helpdesk engine")
    subparsers = parser.add_subparsers(dest="command", required=True)
    owners = [name for name, commands in COMMAND_MODULES.items() if command in commands] or list(COMMAND_MODULES)
    for name in owners:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    # While the command's modules load, a stop signal ends the process at once: nothing exists to clean up yet. From
    # `hold()` on it is only remembered (see engine.stop_signals). Then it exits a one-shot command like Ctrl-C (atexit hooks run, so an embedded Redis started here is stopped); a command
    # that sets `handles_stop` acts on it itself once its main loop is ready.
    PENDING_STOP.install(die_until_held=True)
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    configure_logging(role=args.command)  # every process: web, worker, bot, dev and one-shot commands (cli)
    ensure_channels()  # the same installed channels (plus HELPDESK_CHANNELS) in every process, before any catalog
    PENDING_STOP.hold()  # the command may start servers and children from here on
    if not getattr(args, "handles_stop", False):
        exit_on_stop()
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())

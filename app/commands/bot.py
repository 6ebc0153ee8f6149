"""`run.py bot`: run every configured Telegram bot by long polling; `run.py bot webhook`: point them at the web app."""
from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading

from engine.catalog.loader import ConfigErrors, load_catalog
from engine.channel_setup import report_unconfigured, unconfigured
from engine.settings import from_env
from engine.stop_signals import PENDING_STOP


def register(subparsers) -> None:
    bot = subparsers.add_parser("bot", help="run the Telegram bots by long polling (or set their webhooks)")
    bot.add_argument("--binding", action="append", default=[], metavar="ID",
                     help="run only this telegram binding (repeatable; default: all of config/notifications/channels.yaml)")
    bot.add_argument("--set-webhook", action="store_true",
                     help="instead of polling, register PUBLIC_URL/telegram/<binding>/webhook with Telegram and exit")
    bot.set_defaults(func=_bot, handles_stop=True)


def missing_tokens(catalog, env: dict, only: list[str] | None = None) -> str | None:
    """One message naming every wanted telegram binding whose token variable is unset, or None."""
    missing = [u for u in unconfigured(catalog, env) if u.kind == "telegram" and (not only or u.binding_id in only)]
    if not missing:
        return None
    return "bot tokens are not set: " + ", ".join(f"{u.env_var} (binding {u.binding_id})" for u in missing)


def _bot(args: argparse.Namespace) -> int:
    # The tokens are checked before anything slow (telebot, Redis, the database, Telegram) is touched.
    settings = from_env()
    try:
        problem = missing_tokens(load_catalog(settings.config_dir), settings.env, args.binding)
    except ConfigErrors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    return _run_bots(args, settings)


def _run_bots(args: argparse.Namespace, settings) -> int:
    # Imported only once the tokens are known to be set: telebot, Redis and the database load here, not before.
    from channels.telegram.client import BotConfigError
    from channels.telegram.runner import BotRunner, apps_for
    from channels.telegram.webhook import set_webhooks
    from engine.liveness import start_heartbeat
    from engine.runtime import start_runtime

    try:
        rt = start_runtime(settings)
        report_unconfigured(rt.catalog, settings.env)
        apps = apps_for(rt, args.binding or None)
        if not apps:
            print("no telegram bindings in config/notifications/channels.yaml", file=sys.stderr)
            return 1
        if args.set_webhook:
            for line in set_webhooks(rt, apps):
                print(line)
            return 0
        runner = BotRunner(rt, apps)
        runner.prepare()
    except (BotConfigError, ConfigErrors) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    if PENDING_STOP.signum is not None:  # it came while the bots were set up
        done.set()
    gc.freeze()  # what start-up built (modules, the catalog and its search index) lives on: no collector walks it
    runner.start()
    start_heartbeat(rt, "bot", detail=", ".join(app.names for app in apps))  # listed on the admin page
    print(f"polling {len(apps)} bot(s): {', '.join(app.names for app in apps)}", flush=True)
    while not done.wait(1):
        if not any(t.is_alive() for t in runner.threads):
            print("error: every bot stopped polling", file=sys.stderr)
            return 1
    runner.stop()
    return 0

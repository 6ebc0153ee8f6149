"""`run.py dev`: the zero-setup all-in-one run: migrate, store the config folder, demo data, embedded Redis, worker,
bots, web."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

from engine.catalog import load_catalog
from engine.channel_registry import registry
from engine.channel_setup import REPORTED_ENV, report_unconfigured
from engine.redis_conn import connect_redis, redis_url_of, stop_embedded_redis
from engine.settings import PROJECT_ROOT, from_env


def register(subparsers) -> None:
    dev = subparsers.add_parser("dev", help="run everything in one terminal on embedded defaults")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--no-demo", action="store_true", help="do not load demo accounts and tickets")
    dev.set_defaults(func=_dev)


def _run_py(*args: str) -> list[str]:
    return [sys.executable, str(PROJECT_ROOT / "run.py"), *args]


def _dev(args: argparse.Namespace) -> int:
    settings = from_env()
    env = dict(os.environ)
    redis = None
    if not settings.redis_url:
        redis = connect_redis(settings)  # the embedded server lives as long as this process
        env["REDIS_URL"] = redis_url_of(redis)
    subprocess.run(_run_py("db", "upgrade"), env=env, check=True)
    # The folder here is the truth in development: stored as the newest version when it changed since the last run.
    stored = subprocess.run(_run_py("config", "reload", "-m", "run.py dev"), env=env)
    if stored.returncode:
        return stored.returncode
    if not args.no_demo:
        subprocess.run(_run_py("demo"), env=env, check=True)
    catalog = load_catalog(settings.config_dir)
    unconfigured = {u.binding_id for u in report_unconfigured(catalog, env)}
    env[REPORTED_ENV] = "1"  # said once here, not again by each process started below
    roles = [("worker",)]
    # Each channel's receiving process, for its configured bindings only (`run.py bot` alone refuses a missing token).
    for channel in registry.all():
        configured = [name for name in catalog.bindings(kind=channel.kind) if name not in unconfigured]
        command = channel.inbound_command(configured) if configured else None
        if command:
            roles.append(command)
    roles.append(("web", "--host", args.host, "--port", str(args.port)))
    children = [subprocess.Popen(_run_py(*role), env=env) for role in roles]
    print(f"Helpdesk running at http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    exit_code = 0
    try:
        while all(child.poll() is None for child in children):
            try:
                children[-1].wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        exit_code = 1  # a role stopped by itself: stop the others and say so
        print("a process stopped unexpectedly; shutting down", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=10)
        if redis is not None:
            stop_embedded_redis(redis)
    return exit_code

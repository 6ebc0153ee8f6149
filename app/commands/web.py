"""`run.py web`: serve the portal with waitress (one process), or gunicorn with --workers N (app.prefork); Flask's
debug server only with --debug."""
from __future__ import annotations

import argparse
import os
import sys

from engine.catalog import load_catalog
from engine.channel_setup import REPORTED_ENV, report_unconfigured
from engine.liveness import start_heartbeat
from engine.settings import from_env
from engine.stop_signals import exit_on_stop, kept_from_new_threads

CONNECTION_LIMIT = 1000  # waitress's default of 100 let ~100 stalled uploads lock everyone out
SLOW_BODY_TIMEOUT = 30  # seconds a client may stay silent: a very slow body gets its connection closed
# waitress's own limit sits above Flask's: a body a little too large still gets the portal's localized 413 page;
# only far larger ones are cut off by waitress (plain text) before the app reads a byte.
SERVER_BODY_MARGIN = 16 * 1024 * 1024


def register(subparsers) -> None:
    web = subparsers.add_parser("web", help="serve the web portal, agent console and admin page")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8000)
    web.add_argument("--threads", type=int, default=8, help="threads per process (default 8)")
    web.add_argument("--workers", type=int, default=1,
                     help="processes (default 1: waitress); N>1 runs gunicorn's preforking server, needs REDIS_URL")
    web.add_argument("--debug", action="store_true", help="Flask's reloading debug server (never in production)")
    web.set_defaults(func=_serve, handles_stop=True)


def _serve(args: argparse.Namespace) -> int:
    if args.workers > 1 and not args.debug:
        return _serve_prefork(args)
    from web import create_app  # Flask loads only to serve: run.py imports every command module to print help

    app = create_app(from_env())
    exit_on_stop()  # a SIGTERM that came while the app was built ends the process now, not after serving
    if args.debug:
        app.run(host=args.host, port=args.port, debug=True)
        return 0
    serve(app, args.host, args.port, threads=args.threads)
    return 0


NEEDS_REDIS_URL = (
    "run.py web --workers N (N>1) needs REDIS_URL: the embedded Redis lives inside one process, and several web "
    "processes must share one server (rate limits, queue, sessions kept across uploads). Start a redis-server and "
    "set e.g. REDIS_URL=redis://127.0.0.1:6379/0, or run one process (--workers 1)."
)


def _serve_prefork(args: argparse.Namespace) -> int:
    """gunicorn's master in this process, `args.workers` forked workers each building its own app (app.prefork)."""
    if not from_env().redis_url:
        print(f"error: {NEEDS_REDIS_URL}", file=sys.stderr)
        return 2
    from app.prefork import PreforkServer  # gunicorn loads only to serve several processes

    _report_channels_once()
    server = PreforkServer(args.host, args.port, workers=args.workers, threads=args.threads,
                           connection_limit=CONNECTION_LIMIT, body_margin=SERVER_BODY_MARGIN,
                           silent_client_timeout=SLOW_BODY_TIMEOUT)
    exit_on_stop()  # until gunicorn's master installs its own handlers, a stop signal exits (no worker exists yet)
    server.run()  # returns only in a worker, by SystemExit, like the master: nothing to clean up here
    return 0


def _report_channels_once() -> None:
    """Warn of unconfigured channels here, once, not again in each forked worker (as `run.py dev` does)."""
    settings = from_env()
    report_unconfigured(load_catalog(settings.config_dir), settings.env)
    os.environ[REPORTED_ENV] = "1"


def make_server(app, host: str, port: int, threads: int = 8, **overrides):
    """A waitress server whose limits hold before Flask sees a byte: oversized bodies and stalled clients are cut off.
    The body cutoff follows the attachment policy: a reload that changes it changes the cutoff, without a restart."""
    from waitress.server import create_server  # only when serving, like Flask above
    from web.security import server_body_limit

    limit = server_body_limit(app, SERVER_BODY_MARGIN)
    options = {"threads": threads, "ident": "helpdesk", "max_request_body_size": limit(),
               "channel_timeout": SLOW_BODY_TIMEOUT, "cleanup_interval": 10,
               # Idle/slow connections cost a socket, not a thread: allow many before new clients wait.
               "connection_limit": CONNECTION_LIMIT,
               # poll(), not select(): select() fails on descriptors past 1,024, which 1,000 connections reach.
               "asyncore_use_poll": True, **overrides}
    with kept_from_new_threads():  # waitress starts its worker threads here; SIGTERM must reach its main loop
        server = create_server(app, host=host, port=port, **options)
    if "max_request_body_size" not in overrides:
        # waitress reads its Adjustments for each request it parses: setting the attribute moves the cutoff.
        app.extensions["helpdesk_runtime"].catalogs.on_switch(
            lambda _catalog: setattr(server.adj, "max_request_body_size", limit()))
    return server


def serve(app, host: str, port: int, threads: int = 8) -> None:
    """Serve until interrupted, printing the address (with port 0 the OS picks one)."""
    server = make_server(app, host, port, threads)
    print(f"Serving on http://{server.effective_host}:{server.effective_port}", flush=True)
    try:
        start_heartbeat(app.extensions["helpdesk_runtime"], "web", detail=f"{server.effective_host}:{server.effective_port}")
        server.run()
    finally:
        server.close()

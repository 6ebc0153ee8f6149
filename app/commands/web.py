"""`run.py web`: serve the portal with waitress (production WSGI server); Flask's debug server only with --debug."""
from __future__ import annotations

import argparse

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
    web.add_argument("--threads", type=int, default=8)
    web.add_argument("--debug", action="store_true", help="Flask's reloading debug server (never in production)")
    web.set_defaults(func=_serve, handles_stop=True)


def _serve(args: argparse.Namespace) -> int:
    from web import create_app  # Flask loads only to serve: run.py imports every command module to print help

    app = create_app(from_env())
    exit_on_stop()  # a SIGTERM that came while the app was built ends the process now, not after serving
    if args.debug:
        app.run(host=args.host, port=args.port, debug=True)
        return 0
    serve(app, args.host, args.port, threads=args.threads)
    return 0


def make_server(app, host: str, port: int, threads: int = 8, **overrides):
    """A waitress server whose limits hold before Flask sees a byte: oversized bodies and stalled clients are cut off."""
    from waitress.server import create_server  # only when serving, like Flask above

    options = {"threads": threads, "ident": "helpdesk", "max_request_body_size": app.config["MAX_CONTENT_LENGTH"] + SERVER_BODY_MARGIN,
               "channel_timeout": SLOW_BODY_TIMEOUT, "cleanup_interval": 10,
               # Idle/slow connections cost a socket, not a thread: allow many before new clients wait.
               "connection_limit": CONNECTION_LIMIT, **overrides}
    with kept_from_new_threads():  # waitress starts its worker threads here; SIGTERM must reach its main loop
        return create_server(app, host=host, port=port, **options)


def serve(app, host: str, port: int, threads: int = 8) -> None:
    """Serve until interrupted, printing the address (with port 0 the OS picks one)."""
    server = make_server(app, host, port, threads)
    print(f"Serving on http://{server.effective_host}:{server.effective_port}", flush=True)
    try:
        start_heartbeat(app.extensions["helpdesk_runtime"], "web", detail=f"{server.effective_host}:{server.effective_port}")
        server.run()
    finally:
        server.close()

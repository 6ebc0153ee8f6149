"""One module per `run.py` command group; each exposes `register(subparsers)` (see run.py's COMMAND_MODULES)."""

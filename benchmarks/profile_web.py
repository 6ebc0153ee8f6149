"""Drive one portal case in a loop for a sampling profiler (py-spy), signed in, through Flask's test client.

`py-spy record -o out.json --format speedscope -- python benchmarks/profile_web.py "topic form page" --requests 3000`
Cases: the names of bench_web's cases ("topic form page", "ticket submission", "inline field check", ...).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_web import portal_calls, started_portal  # noqa: E402
from engine.redis_conn import stop_embedded_redis  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case")
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    portal = started_portal()
    try:
        call = portal_calls(portal)[args.case]
        for i in range(args.requests):
            call(i)
    finally:
        portal.rt.db.close()
        stop_embedded_redis(portal.rt.redis)
    return 0


if __name__ == "__main__":
    sys.exit(main())

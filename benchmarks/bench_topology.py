"""Topology load: tickets/s and p95 latency through nginx for 1 vs 2 web processes, on PostgreSQL vs SQLite.

Plain script: `python benchmarks/bench_topology.py [--customers 8] [--tickets 5] [--rounds 2]`. Each configuration is
the deployment of tests/topology (nginx with the shipped site, `run.py web` as one waitress process or
`--workers 2` gunicorn, redis-server, 2 workers delivering the confirmations to an SMTP server); PostgreSQL is a
cluster of its own. Signed-in customers submit the topic form concurrently (form page, then the multipart POST,
as a browser does); a ticket's latency covers both. Ratios are to one process on SQLite, measured in the same run.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from channels import register_channels  # noqa: E402
from engine import accounts  # noqa: E402
from tests.reliability.load import Customer, Tally  # noqa: E402
from tests.topology.cluster import Topology  # noqa: E402

register_channels()  # as run.py does at a process's start
PASSWORD = "bench-pass-123"
CONFIGS = [(1, "sqlite"), (2, "sqlite"), (1, "postgres"), (2, "postgres")]


def submit(customers: list[Customer], each: int) -> tuple[float, list[float], Tally]:
    """Every customer submits `each` tickets, all at once; returns (seconds, per-ticket latencies, statuses)."""
    tally, latencies = Tally(), []

    def run(customer: Customer) -> None:
        for _ in range(each):
            started = time.monotonic()
            if customer.create_ticket(tally):
                latencies.append(time.monotonic() - started)

    started = time.monotonic()
    with ThreadPoolExecutor(len(customers)) as pool:
        list(pool.map(run, customers))
    return time.monotonic() - started, latencies, tally


def measure(web_workers: int, database: str, customers: int, tickets: int, rounds: int) -> tuple[float, float]:
    """(tickets/s, p95 seconds) over `rounds` rounds on a fresh deployment."""
    with tempfile.TemporaryDirectory(prefix="bench-topology-") as tmp, \
            Topology(Path(tmp), web_workers=web_workers, database=database) as top:
        emails = [f"bench{n}@example.com" for n in range(customers)]
        for email in emails:
            top.query(lambda email=email: accounts.create_user(email, PASSWORD, name="Клиент"))
        signed_in = [Customer(top.nginx.url, email, PASSWORD) for email in emails]
        submit(signed_in, 1)  # warm-up: templates compiled, connections open
        seconds, latencies, done = 0.0, [], 0
        for _ in range(rounds):
            took, times, tally = submit(signed_in, tickets)
            assert tally.server_errors() == 0, tally.statuses
            seconds, latencies, done = seconds + took, latencies + times, done + len(times)
        return done / seconds, statistics.quantiles(latencies, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=8)
    parser.add_argument("--tickets", type=int, default=5, help="tickets per customer per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results = {config: measure(*config, args.customers, args.tickets, args.rounds) for config in CONFIGS}
    base_rate, base_p95 = results[(1, "sqlite")]
    print(f"{args.customers} customers x {args.tickets} tickets x {args.rounds} rounds per configuration")
    print(f"{'web processes':>13} {'database':>10} {'tickets/s':>10} {'p95 ms':>8} {'x rate':>7} {'x p95':>6}")
    for (workers, database), (rate, p95) in results.items():
        print(f"{workers:>13} {database:>10} {rate:>10.1f} {p95 * 1000:>8.0f} {rate / base_rate:>7.2f} {p95 / base_p95:>6.2f}")
    pg1, pg2 = results[(1, "postgres")], results[(2, "postgres")]
    sq2 = results[(2, "sqlite")]
    print(f"2 vs 1 process: PostgreSQL x{pg2[0] / pg1[0]:.2f}, SQLite x{sq2[0] / base_rate:.2f}; "
          f"PostgreSQL vs SQLite: 1 process x{pg1[0] / base_rate:.2f}, 2 processes x{pg2[0] / sq2[0]:.2f}")


if __name__ == "__main__":
    main()

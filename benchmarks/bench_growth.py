"""Flat as data grows: requests/s of every list and conversation page on an empty vs a grown database, both databases.

`python benchmarks/bench_growth.py [--scale 1.0] [--seconds 4] [--backends sqlite,postgres] [--postgres URL]`

Per backend two sites run side by side in one process: "empty" (one page of each list, see EMPTY) and "grown" (benchmarks/grow_data.py at --scale; at 1.0: 100,000 tickets, 1,000,000 messages, 10,000
customers, the demo customer owning 2,000 tickets and one with 200 messages). Each page is requested through Flask's
test client (signed in, no network) in interleaved rounds, switching the models' database between the sites, and
the ratio grown/empty is printed (target: at least 0.67, i.e. within 1.5x). Without --postgres a throwaway
PostgreSQL server is started on a free port (Debian's postgresql, as root via `su postgres`) and removed after.
Then the query plans the grown pages rely on (EXPLAIN of each distinct list/conversation statement they issued).
"""
from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peewee import SqliteDatabase  # noqa: E402
from playhouse.db_url import connect  # noqa: E402

from channels import register_channels  # noqa: E402
from engine import accounts  # noqa: E402
from engine.redis_conn import stop_embedded_redis  # noqa: E402
from engine.runtime import start_runtime  # noqa: E402
from engine.settings import PROJECT_ROOT, Settings  # noqa: E402
from engine.store.db import database  # noqa: E402
from engine.store.migrations import upgrade  # noqa: E402
from engine.store.models import Message, Ticket  # noqa: E402
from grow_data import FULL, Scale, analyze, grow  # noqa: E402
from statements import recording  # noqa: E402
from web import create_app  # noqa: E402

register_channels()

PASSWORD = "bench-password-1"
# The baseline holds about one full page of every list and filter (the demo customer's 100 tickets: ~50 open, ~50
# archived; 400 tickets of one topic: 60 new ones; a 30-message conversation: one conversation page): the pages
# render the same rows on both sites, so the ratio shows what the data behind them costs, not the rendering of 50
# rows instead of 3.
EMPTY = Scale(customers=5, tickets=400, messages=1_000, demo_tickets=100, long_conversation=30, failed_deliveries=60,
              topics=1)
LISTED_TABLES = ('"ticket"', '"message"', '"notification"', '"delivery"')


@dataclass
class Site:
    name: str
    rt: object
    clients: dict
    long_ticket: int
    last_message: int
    category: str
    topic: str

    def use(self):
        database.initialize(self.rt.db)

    def pages(self) -> dict[str, tuple[str, str, dict]]:
        """case -> (role, url, headers)."""
        n, hx = self.long_ticket, {"HX-Request": "true"}
        return {
            "my tickets /tickets": ("customer", "/tickets", {}),
            "archive /tickets/archive": ("customer", "/tickets/archive", {}),
            "ticket page (customer)": ("customer", f"/tickets/{n}", {}),
            "ticket page (agent)": ("agent", f"/agent/tickets/{n}", {}),
            "poll, nothing new (204)": ("customer", f"/tickets/{n}/messages?after={self.last_message}", hx),
            "badge /notifications/badge": ("customer", "/notifications/badge", {}),
            "notifications": ("customer", "/notifications", {}),
            "queue /agent/ (open)": ("agent", "/agent/", {}),
            "queue status=all": ("agent", "/agent/?status=all", {}),
            "queue status=archived": ("agent", "/agent/?status=archived", {}),
            "queue new + category": ("agent", f"/agent/?status=new&category={self.category}", hx),
            "queue category + topic": ("agent", f"/agent/?status=open&category={self.category}&topic={self.topic}", hx),
            "admin /admin/": ("admin", "/admin/", {}),
        }

    def get(self, case: str):
        role, url, headers = self.pages()[case]
        response = self.clients[role].get(url, headers=headers)
        assert response.status_code in (200, 204), (self.name, url, response.status_code)
        return response


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_postgres():
    """A PostgreSQL server of our own on a free port (fsync off), removed afterwards; yields its URL."""
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    workdir = Path(tempfile.mkdtemp(prefix="bench-growth-pg-"))
    shutil.chown(workdir, "postgres")
    port = free_port()

    def as_postgres(command: str):
        subprocess.run(["su", "postgres", "-c", command], cwd="/tmp", check=True, stdout=subprocess.DEVNULL)

    try:
        as_postgres(f"{pgbin}/initdb -D {workdir}/data -A trust -U postgres -E UTF8 --no-locale")
        as_postgres(f"{pgbin}/pg_ctl -D {workdir}/data -l {workdir}/log -w -o '-p {port} -k {workdir} "
                    f"-c listen_addresses=127.0.0.1 -c fsync=off' start")
        subprocess.run([f"{pgbin}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "helpdesk"], check=True)
        yield f"postgresql://postgres@127.0.0.1:{port}/helpdesk"
    finally:
        subprocess.run(["su", "postgres", "-c", f"{pgbin}/pg_ctl -D {workdir}/data -m fast -w stop"], cwd="/tmp",
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)


def signed_in(app, email: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    assert client.post("/login", data={"email": email, "password": PASSWORD, "_csrf": token}).status_code == 303
    return client


def build(name: str, workdir: Path, database_url: str, scale: Scale) -> Site:
    """A migrated database grown to `scale` (planner statistics gathered) and signed-in clients of each role."""
    settings = Settings(config_dir=workdir / "config", data_dir=workdir / name, database_url=database_url,
                        secret_key="bench", env={})
    rt = start_runtime(settings)
    database.initialize(rt.db)
    upgrade(rt.db)
    users = {role: accounts.create_user(f"{role}@example.com", PASSWORD, role=role, name=role)
             for role in ("customer", "agent", "admin")}
    started = time.perf_counter()
    added = grow(rt.db, rt.catalog, users["customer"], users["agent"], scale,
                 log=lambda line: print(f"  {name}: {line}", flush=True))
    analyze(rt.db)
    print(f"  {name}: grown in {time.perf_counter() - started:.0f} s", flush=True)
    ticket = Ticket.get(Ticket.number == added["long_ticket"])
    last = Message.select(Message.id).where(Message.ticket == ticket).order_by(Message.id.desc()).scalar()
    app = create_app(runtime=rt)
    rt.cache.close()  # what the data costs, not the cache: every page reads the database (web/list_cache.py)
    clients = {role: signed_in(app, user.email) for role, user in users.items()}
    return Site(name, rt, clients, ticket.number, last, ticket.category_id, ticket.topic_id)


def measure(sites: list[Site], cases: list[str], seconds: float, rounds: int = 4) -> dict[tuple[str, str], float]:
    """Requests/s per (case, site), interleaved in short rounds so a busy machine slows both sites alike."""
    done = {(c, s.name): 0 for c in cases for s in sites}
    spent = {key: 0.0 for key in done}
    for case in cases:
        for site in sites:
            site.use()
            for _ in range(3):
                site.get(case)
    for _ in range(rounds):
        for case in cases:
            for site in sites:
                site.use()
                started = time.perf_counter()
                while time.perf_counter() - started < seconds / rounds / len(sites):
                    site.get(case)
                    done[case, site.name] += 1
                spent[case, site.name] += time.perf_counter() - started
    return {key: done[key] / spent[key] for key in done}


def plans(site: Site, cases: list[str]) -> None:
    """EXPLAIN of each distinct statement on the listed tables the grown pages issue, with its statement count."""
    site.use()
    seen = set()
    explain = "EXPLAIN QUERY PLAN " if isinstance(site.rt.db, SqliteDatabase) else "EXPLAIN "
    for case in cases:
        with recording(site.rt.db) as statements:
            site.get(case)
        print(f"\n### {case}: {len(statements)} statements")
        for sql, params in statements:
            if not sql.startswith("SELECT") or not any(f"FROM {t}" in sql or f"JOIN {t}" in sql for t in LISTED_TABLES):
                continue
            if sql in seen:
                continue
            seen.add(sql)
            print(f"  {sql[:300]}{' ...' if len(sql) > 300 else ''}")
            for row in site.rt.db.execute_sql(explain + sql, params).fetchall():
                print(f"      {row[-1]}")


def run_backend(backend: str, scale: Scale, seconds: float, postgres_url: str | None) -> list[tuple[str, float, float]]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-growth-{backend}-"))
    shutil.copytree(PROJECT_ROOT / "config", workdir / "config")
    server = throwaway_postgres() if backend == "postgres" and not postgres_url else nullcontext(postgres_url)
    sites = []
    try:
        with server as url:
            for name, size in (("empty", EMPTY), ("grown", scale)):
                if url:  # one database per site on the server
                    base, _, _ = url.rpartition("/")
                    db_name = f"growth_{name}"
                    server_db = connect(url)
                    server_db.execute_sql(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
                    server_db.execute_sql(f"CREATE DATABASE {db_name}")
                    server_db.close()
                    site_url = f"{base}/{db_name}"
                else:
                    site_url = ""
                sites.append(build(name, workdir, site_url, size))
            cases = list(sites[0].pages())
            rates = measure(sites, cases, seconds)
            rows = [(case, rates[case, "empty"], rates[case, "grown"]) for case in cases]
            print(f"\n{backend}: {'page':<32} {'empty':>9} {'grown':>9} {'ratio':>6}")
            for case, empty, grown in rows:
                flag = "" if grown / empty >= 1 / 1.5 else "  < 0.67"
                print(f"{backend}: {case:<32} {empty:9.1f} {grown:9.1f} {grown / empty:6.2f}{flag}", flush=True)
            print(f"\n{backend}: query plans on the grown database")
            plans(sites[1], cases)
            for site in sites:
                site.rt.db.close()
                stop_embedded_redis(site.rt.redis)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="grown size as a fraction of 100,000 tickets")
    parser.add_argument("--seconds", type=float, default=4.0, help="measuring time per page and site")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres", help="a server URL to use instead of a throwaway server (databases growth_*)")
    args = parser.parse_args()
    scale = FULL.times(args.scale)
    print(f"bench_growth: grown = {scale}; Flask test client, {args.seconds:g} s per page and site in interleaved rounds")
    for backend in args.backends.split(","):
        print(f"\n== {backend}")
        run_backend(backend, scale, args.seconds, args.postgres)
    return 0


if __name__ == "__main__":
    sys.exit(main())

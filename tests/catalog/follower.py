"""A separate process holding a catalog the way every process does (database + Redis): prints `ready <number>
<version>`, then for each switch `switched <number> <version> <chats title> <monotonic time of the swap>`.

argv: config folder (its own, maybe stale), Redis socket, database URL; CONFIG_POLL_INTERVAL is honoured."""
import os
import sys
import threading
import time

from redis import Redis

from channels import register_channels
from engine.catalog_sync import CatalogHolder
from engine.config_follower import poll_interval_from
from engine.settings import Settings
from engine.store.db import init_database

register_channels()  # as run.py does at a process's start
db = init_database(Settings(database_url=sys.argv[3]))
holder = CatalogHolder(sys.argv[1], redis=Redis(unix_socket_path=sys.argv[2]), db=db,
                       poll_interval=poll_interval_from(os.environ))
lines = []
changed = threading.Condition()


def switched(catalog):
    at = time.monotonic()  # CLOCK_MONOTONIC is system-wide: the test compares it with its own
    with changed:
        lines.append(f"switched {holder.number} {catalog.version} {catalog.category('chats').title} {at}")
        changed.notify()


holder.on_switch(switched)
print("ready", holder.number, holder.current.version, flush=True)
deadline = time.monotonic() + 120  # bounds a hang; the test kills this process when done
with changed:
    while time.monotonic() < deadline:
        changed.wait(timeout=1)
        while lines:
            print(lines.pop(0), flush=True)

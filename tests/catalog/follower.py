"""A separate process holding a catalog: prints its version, then the version it switches to and the monotonic time of
the look that saw it (or 'timeout')."""
import sys
import time

from redis import Redis

from channels import register_channels
from engine.catalog_sync import CatalogHolder

register_channels()  # as run.py does at a process's start
holder = CatalogHolder(sys.argv[1], redis=Redis(unix_socket_path=sys.argv[2]))
first = holder.current.version
print("ready", first, flush=True)
deadline = time.monotonic() + 120  # bounds a hang; the test waits for the line
while time.monotonic() < deadline:
    looked_at = time.monotonic()  # when this look began: it checks the published version before loading the new one
    catalog = holder.current
    if catalog.version != first:
        print("switched", catalog.version, catalog.category("chats").title, looked_at, flush=True)
        break
    time.sleep(0.02)
else:
    print("timeout", flush=True)

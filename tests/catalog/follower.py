"""A separate process holding a catalog: prints its version, then the version it switches to (or 'timeout')."""
import sys
import time

from redis import Redis

from engine.catalog import CatalogHolder

holder = CatalogHolder(sys.argv[1], redis=Redis(unix_socket_path=sys.argv[2]))
first = holder.current.version
print("ready", first, flush=True)
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    catalog = holder.current
    if catalog.version != first:
        print("switched", catalog.version, catalog.category("chats").title, flush=True)
        break
    time.sleep(0.02)
else:
    print("timeout", flush=True)

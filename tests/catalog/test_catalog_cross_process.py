"""A reload in one process switches another running process to the new catalog through the real Redis."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from engine.catalog_sync import CatalogHolder
from engine.settings import PROJECT_ROOT

FOLLOWER = Path(__file__).with_name("follower.py")


def test_second_process_switches_after_reload(mini, redis, redis_server):
    """The follower picks up the published version within about a second, without a restart."""
    writer = CatalogHolder("config", redis=redis)
    child = subprocess.Popen(
        [sys.executable, str(FOLLOWER), "config", redis_server.socket_file],
        stdout=subprocess.PIPE, encoding="utf-8",
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
    )
    try:
        assert child.stdout.readline().split() == ["ready", writer.current.version]
        mini.write("categories/chats.yaml", "id: chats\ntitle: Новые чаты\ntopics:\n  - id: other\n    title: Иное\n")
        result = writer.reload()
        published = time.monotonic()
        assert result.ok
        *switched, looked_at = child.stdout.readline().split()
        assert switched == ["switched", result.version, "Новые", "чаты"]
        # Measured to the follower's look that saw the new version (CLOCK_MONOTONIC is system-wide), not to the end
        # of its reload: parsing the YAML again is not the latency under test, and takes long on a loaded machine.
        assert float(looked_at) - published < 3
    finally:
        child.kill()
        child.wait()
        child.stdout.close()

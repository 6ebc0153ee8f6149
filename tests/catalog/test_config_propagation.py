"""Config versions across processes: real follower subprocesses (each with a config folder of its own) on one
database and one Redis run the version `config reload` stored from a third folder, switch within a second of its
commit, fall back to polling while Redis is away, and keep their version when a stored one does not load."""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from engine.catalog.bundle import ConfigBundle
from engine.catalog_sync import CHANNEL, CatalogHolder, announce
from engine.config_versions import store_version
from engine.redis_conn import redis_url_of
from engine.settings import PROJECT_ROOT
from run import main
from tests.notify.conftest import OwnRedis
from tests.waiting import wait_for

pytestmark = pytest.mark.postgres  # versions live in the database: SQLite, and PostgreSQL under TEST_DATABASE_URL

FOLLOWER = Path(__file__).with_name("follower.py")
CHATS = "id: chats\ntitle: {title}\ntopics:\n  - id: other\n    title: Иное\n"


class Follower:
    """tests/catalog/follower.py in a subprocess, read line by line."""

    def __init__(self, config_dir: Path, redis_socket: str, database_url: str, poll_interval: float = 5.0):
        self.proc = subprocess.Popen(
            [sys.executable, str(FOLLOWER), str(config_dir), redis_socket, database_url],
            stdout=subprocess.PIPE, encoding="utf-8",
            env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8",
                 "CONFIG_POLL_INTERVAL": str(poll_interval)},
        )
        self.ready = self.proc.stdout.readline().split()

    def next_switch(self) -> tuple[int, str, str, float]:
        """(number, catalog version, chats title, monotonic time of the swap) of the next switch (blocks)."""
        fields = self.proc.stdout.readline().split()
        assert fields and fields[0] == "switched", f"follower said {fields}"
        return int(fields[1]), fields[2], " ".join(fields[3:-1]), float(fields[-1])

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


@pytest.fixture
def reload_cli(mini, versions_db, versions_url, monkeypatch):
    """`run.py config reload --config config` in this process, on the followers' database; returns its exit code."""
    monkeypatch.setenv("DATABASE_URL", versions_url)

    def reload(redis_url: str, *extra: str) -> int:
        monkeypatch.setenv("REDIS_URL", redis_url)
        return main(["config", "reload", "--config", "config", *extra])
    return reload


def other_folders(tmp_path: Path, mini) -> list[Path]:
    """Two folders unlike the published one: the shipped config, and the mini config with another title."""
    shipped = shutil.copytree(PROJECT_ROOT / "config", tmp_path / "host-a")
    stale = shutil.copytree(mini.path, tmp_path / "host-b")
    (stale / "categories" / "chats.yaml").write_text(CHATS.format(title="Устаревшие чаты"), encoding="utf-8")
    return [shipped, stale]


def test_processes_with_other_folders_run_the_stored_version_within_a_second(mini, redis, redis_server, reload_cli,
                                                                             versions_url, tmp_path):
    """Both followers serve version 1 from the third folder, not their own; each reload reaches both, the
    median (of three) slowest follower's swap comes under 1 s after the reload began (validation and commit included)."""
    assert reload_cli(redis_url_of(redis)) == 0
    followers = [Follower(folder, redis_server.socket_file, versions_url) for folder in other_folders(tmp_path, mini)]
    try:
        published = CatalogHolder("config").current.version
        assert [f.ready for f in followers] == [["ready", "1", published]] * 2
        latencies = []
        for number in (2, 3, 4):
            mini.write("categories/chats.yaml", CHATS.format(title=f"Чаты {number}"))
            started = time.monotonic()  # before the reload's commit: an upper bound of the latency from it
            assert reload_cli(redis_url_of(redis)) == 0
            switches = [f.next_switch() for f in followers]
            assert [s[:3] for s in switches] == [(number, CatalogHolder("config").current.version, f"Чаты {number}")] * 2
            latencies.append(max(s[3] for s in switches) - started)
        print("reload -> slowest follower swap, s:", latencies)
        assert statistics.median(latencies) < 1.0, latencies
    finally:
        for follower in followers:
            follower.stop()


def test_redis_down_during_reload_then_back(mini, reload_cli, versions_url, tmp_path):
    """Redis crashed: the reload still stores the version and the followers find it by polling the database; once
    Redis is back they subscribe again and the next reload arrives through pub/sub."""
    own = OwnRedis()
    own.start()
    followers = []
    try:
        assert reload_cli(own.url) == 0
        followers = [Follower(folder, own.socket, versions_url, poll_interval=1.0) for folder in other_folders(tmp_path, mini)]
        client = own.client()
        wait_for(lambda: client.pubsub_numsub(CHANNEL) == [(CHANNEL.encode(), 2)], message="both followers subscribed")
        own.crash()
        mini.write("categories/chats.yaml", CHATS.format(title="Без Redis"))
        assert reload_cli(own.url) == 0
        assert [f.next_switch()[:3:2] for f in followers] == [(2, "Без Redis")] * 2
        own.start()
        wait_for(lambda: client.pubsub_numsub(CHANNEL) == [(CHANNEL.encode(), 2)], message="both followers back")
        mini.write("categories/chats.yaml", CHATS.format(title="С Redis"))
        assert reload_cli(own.url) == 0
        assert [f.next_switch()[:3:2] for f in followers] == [(3, "С Redis")] * 2
    finally:
        for follower in followers:
            follower.stop()
        own.close()


def test_a_stored_version_that_does_not_load_keeps_the_running_one(mini, redis, versions_db):
    """A version this code cannot load (stored by other code, or by hand) is refused and reported, never served;
    the next good version is followed."""
    writer = CatalogHolder("config", redis=redis, db=versions_db)
    reader = CatalogHolder("config", redis=redis, db=versions_db)
    running = reader.current
    bad = ConfigBundle({**writer_files(mini), "forms/chat-problem.yaml": b"id: chat-problem\nextends: nope\n"})
    info, _ = store_version(bad, running, "test")
    announce(redis, info.number)
    wait_for(lambda: reader.last_errors, message="the reader to refuse version 2")
    assert reader.current is running and reader.number == 1
    assert str(reader.last_errors[0]) == "config@v2/forms/chat-problem.yaml:2: extends: unknown parent form 'nope'"
    mini.write("categories/chats.yaml", CHATS.format(title="Исправлено"))
    assert writer.reload().number == 3
    wait_for(lambda: reader.number == 3, message="the reader to follow version 3")
    assert reader.current.category("chats").title == "Исправлено" and reader.last_errors == []
    writer.close(), reader.close()


def writer_files(mini) -> dict[str, bytes]:
    return {p.relative_to(mini.path).as_posix(): p.read_bytes() for p in mini.path.rglob("*.yaml")}


def test_a_rollback_reaches_a_following_process(mini, redis, redis_server, reload_cli, versions_url, tmp_path, monkeypatch):
    """`config rollback 1` publishes version 1's files as version 3: a process following the versions switches to
    it at once, serving version 1's catalog again."""
    assert reload_cli(redis_url_of(redis)) == 0
    first = CatalogHolder("config").current.version
    mini.write("categories/chats.yaml", CHATS.format(title="Новые чаты"))
    assert reload_cli(redis_url_of(redis)) == 0
    follower = Follower(other_folders(tmp_path, mini)[1], redis_server.socket_file, versions_url)
    try:
        assert follower.ready[:2] == ["ready", "2"]
        assert main(["config", "rollback", "1", "-m", "назад"]) == 0  # reload_cli set the environment
        assert follower.next_switch()[:3] == (3, first, "Чаты")
    finally:
        follower.stop()

"""Liveness: a running process is listed (admin page, /metrics) from its Redis heartbeat, and leaves the list when it
stops (its key deleted) or dies (its key expires); the heartbeat rides out a Redis outage."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys

import psutil
import pytest

from engine.liveness import KEY_PREFIX, Heartbeat, live_processes
from engine.redis_conn import quick_client, redis_url_of
from engine.settings import PROJECT_ROOT
from tests.notify.conftest import OwnRedis
from tests.waiting import wait_for

BEAT = "0.3"  # seconds between heartbeats in these tests (a key lives three beats)


@pytest.fixture
def start_worker(settings, redis, tmp_path):
    """start_worker() -> a `run.py worker` on the test's config, database and Redis, logging JSON lines."""
    env = {**os.environ, "HELPDESK_CONFIG": str(settings.config_dir), "HELPDESK_DATA": str(settings.data_dir),
           "DATABASE_URL": settings.database_url, "REDIS_URL": redis_url_of(redis), "SECRET_KEY": "s" * 12,
           "HEARTBEAT_INTERVAL": BEAT, "LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"}
    started: list[tuple[subprocess.Popen, list]] = []

    def start() -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "w")
        proc = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "run.py"), "worker"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        log.close()
        proc.log_path = log.name
        started.append((proc, []))
        return proc

    yield start
    for proc, _ in started:
        family = _family(proc)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        for member in family:  # RQ's scheduler child, or anything a failed stop left
            with contextlib.suppress(psutil.NoSuchProcess):
                member.kill()


def _family(proc) -> list[psutil.Process]:
    try:
        parent = psutil.Process(proc.pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def listed(redis, pid: int):
    return next((p for p in live_processes(redis) if p.pid == pid), None)


def test_a_running_worker_is_listed_until_it_stops(rt, redis, as_role, start_worker):
    proc = start_worker()
    info = wait_for(lambda: listed(redis, proc.pid), message="the worker's heartbeat")
    assert (info.role, info.host, info.version) == ("worker", socket.gethostname(), rt.catalog.version)
    first_beat = info.last_beat
    assert wait_for(lambda: listed(redis, proc.pid).last_beat > first_beat, message="a second beat")

    page = as_role("admin").get("/admin/").get_data(as_text=True)
    section = page[page.index('id="processes"'):page.index('id="deliveries"')]
    assert "Обработчик очереди" in section and f"<td>{proc.pid}</td>" in section
    assert info.version in section and info.host in section and " с назад" in section

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    assert listed(redis, proc.pid) is None and not redis.exists(KEY_PREFIX + info.id)  # deleted, not expired
    page = as_role("admin").get("/admin/").get_data(as_text=True)
    assert f"<td>{proc.pid}</td>" not in page and "Нет работающих процессов" in page

    entries = [json.loads(line) for line in open(proc.log_path) if line.startswith("{")]
    assert entries and all(e["role"] == "worker" for e in entries)


def test_a_killed_workers_entry_expires(redis, rt, start_worker):
    proc = start_worker()
    info = wait_for(lambda: listed(redis, proc.pid), message="the worker's heartbeat")
    for member in _family(proc):
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    proc.wait(10)
    assert 0 < redis.pttl(KEY_PREFIX + info.id) <= 3 * float(BEAT) * 1000 + 1000  # nobody deleted it: it expires
    wait_for(lambda: listed(redis, proc.pid) is None, timeout=30, message="the dead worker's key to expire")
    assert redis.zscore("helpdesk:processes", info.id) is None  # listing dropped its index entry too


def test_the_heartbeat_survives_a_redis_outage_and_logs_it_once(caplog):
    server = OwnRedis()
    server.start()
    heartbeat = Heartbeat(quick_client(server.client(), 0.5), "worker", lambda: "v1", interval=0.05)
    try:
        with caplog.at_level(logging.INFO, logger="engine.liveness"):
            heartbeat.start()
            wait_for(lambda: server.client().exists(heartbeat.key), message="a beat")
            server.crash()
            wait_for(lambda: "heartbeat failed" in caplog.text, message="the outage to be noticed")
            wait_for(lambda: heartbeat.is_alive() and heartbeat._failing, message="beats failing")
            server.start()
            wait_for(lambda: _exists(server, heartbeat.key), message="the heartbeat to come back")
            wait_for(lambda: "heartbeat restored" in caplog.text, message="the recovery to be logged")
        messages = [r.getMessage() for r in caplog.records if r.name == "engine.liveness"]
        assert len(messages) == 2 and "heartbeat failed" in messages[0] and "restored" in messages[1]
        assert heartbeat.is_alive()
    finally:
        heartbeat.stop()
        server.close()
    assert not heartbeat.is_alive()


def _exists(server, key) -> bool:
    try:
        return bool(server.client().exists(key))
    except Exception:
        return False

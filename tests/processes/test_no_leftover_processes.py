"""Every `run.py` command on the embedded Redis leaves no redis-server (or any child) behind, and a worker
stops within 5 s of SIGTERM however early or late in its life the signal comes."""
from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from redis import Redis

from engine.settings import PROJECT_ROOT
from tests.telegram.conftest import NOTIFY_TOKEN, SUPPORT_TOKEN
from tests.telegram.fake_bot_api import FakeBotAPI
from tests.waiting import DUMP_AFTER, HANG_CAP, wait_for

STOP_LIMIT = 5.0  # seconds from SIGTERM to exit: the operator-facing promise
PR_SET_CHILD_SUBREAPER = 36


def redis_servers() -> set[int]:
    """Live redis-server processes this test process is the reaper of (see `subreaper`): every server a command
    started, wherever its socket lives, and no server of other test runs on the machine."""
    pids = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if child.name() == "redis-server":
                if child.status() == psutil.STATUS_ZOMBIE:
                    os.waitpid(child.pid, os.WNOHANG)
                else:
                    pids.add(child.pid)
        except (psutil.Error, ChildProcessError):
            pass
    return pids


@pytest.fixture(autouse=True)
def subreaper():
    """Make this process the reaper of its orphaned descendants: a daemonized redis-server started by a command
    becomes our child instead of init's, so a leaked one can be found for sure (Linux PR_SET_CHILD_SUBREAPER)."""
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    try:
        yield
    finally:
        for pid in redis_servers():  # a leak the test reported: stop it
            os.kill(pid, signal.SIGKILL)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


class RunPy:
    """`python run.py ...` on the shipped config, a private data folder and no REDIS_URL (embedded Redis)."""

    def __init__(self, config_dir: Path, data_dir: Path, **env: str):
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")
                    and not k.endswith("_BOT_TOKEN")}
        self.env.update(HELPDESK_CONFIG=str(config_dir), HELPDESK_DATA=str(data_dir), SECRET_KEY="s",
                        PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1", **env)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(PROJECT_ROOT / "run.py"), *args], env=self.env,
                              capture_output=True, text=True, timeout=HANG_CAP)

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(PROJECT_ROOT / "run.py"), *args], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def embedded_redis(self) -> Redis | None:
        """A client on the embedded server the command started, once its settings file says where it is."""
        try:
            socket = json.loads((self.data_dir / "redis.db.settings").read_text())["unixsocket"]
        except (OSError, ValueError, KeyError):
            return None
        return Redis(unix_socket_path=socket)


def rq_workers(run: RunPy) -> int:
    client = run.embedded_redis()
    if client is None:
        return 0
    try:
        return client.scard("rq:workers")
    except Exception:
        return 0
    finally:
        client.close()


def stop(proc: subprocess.Popen) -> tuple[float, list[psutil.Process]]:
    """SIGTERM `proc`; return the seconds it took to exit and the children it had."""
    children = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
    sent = time.monotonic()
    proc.terminate()
    try:
        proc.wait(DUMP_AFTER)
    except subprocess.TimeoutExpired:
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack goes to the output
        proc.wait(HANG_CAP)
        for child in children:  # a child still holding the output pipe would block the read
            if child.is_running() and child.name() != "redis-server":
                child.kill()
        pytest.fail(f"still running {DUMP_AFTER:.0f} s after SIGTERM; its threads:\n{proc.stdout.read()}")
    return time.monotonic() - sent, children


def assert_nothing_left(before: set[int], children: list[psutil.Process] = ()) -> None:
    # The last client stops the embedded server before its process exits; a short grace covers the kernel's reaping.
    wait_for(lambda: not (redis_servers() - before), timeout=15, message="redis-server to stop")
    alive = [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"left running: {alive}"


@pytest.fixture
def run_py(tmp_path, config_dir):
    run = RunPy(config_dir, tmp_path / "data")
    run.before = redis_servers()
    assert run.run("db", "upgrade").returncode == 0
    assert not (redis_servers() - run.before)
    return run


@pytest.mark.parametrize("args", [
    ("db", "upgrade"), ("demo",), ("config", "check"), ("config", "reload"), ("worker", "--burst"),
    ("token", "list"), ("user", "add", "--email", "x@example.com", "--role", "agent", "--password", "pw-123456789"),
])
def test_a_one_shot_command_leaves_no_redis_server(run_py, args):
    result = run_py.run(*args)
    assert result.returncode == 0, result.stderr
    assert "Redis shutdown failed" not in result.stderr
    assert_nothing_left(run_py.before)


def test_worker_started_and_stopped_leaves_nothing(run_py):
    proc = run_py.start("worker")
    wait_for(lambda: rq_workers(run_py) == 1, message="the worker to register")
    elapsed, children = stop(proc)
    output = proc.stdout.read()
    assert proc.returncode == 0, output
    assert elapsed < STOP_LIMIT and "Redis shutdown failed" not in output
    assert_nothing_left(run_py.before, children)


def test_web_started_and_stopped_leaves_nothing(run_py):
    proc = run_py.start("web", "--port", "0")
    wait_for(lambda: re.search(r"Serving on http", proc.stdout.readline() or "x"), message="waitress")
    elapsed, children = stop(proc)
    assert proc.returncode == 0 and elapsed < STOP_LIMIT
    assert_nothing_left(run_py.before, children)


def test_dev_started_and_stopped_leaves_nothing(run_py):
    proc = run_py.start("dev", "--port", "0", "--no-demo")
    wait_for(lambda: re.search(r"Serving on http", proc.stdout.readline() or "x"), message="the dev web server")
    wait_for(lambda: rq_workers(run_py) == 1, message="the dev worker to register")
    _, children = stop(proc)
    assert proc.returncode == 0
    assert_nothing_left(run_py.before, children)


def test_bot_started_and_stopped_leaves_nothing(tmp_path, config_dir):
    with FakeBotAPI({SUPPORT_TOKEN: "sup_test_bot", NOTIFY_TOKEN: "notify_test_bot"}) as api:
        run = RunPy(config_dir, tmp_path / "data", TELEGRAM_API_URL=api.url,
                    SUPPORT_BOT_TOKEN=SUPPORT_TOKEN, NOTIFY_BOT_TOKEN=NOTIFY_TOKEN)
        assert run.run("db", "upgrade").returncode == 0
        before = redis_servers()
        proc = run.start("bot")
        wait_for(lambda: api.calls_of("getUpdates", SUPPORT_TOKEN) and api.calls_of("getUpdates", NOTIFY_TOKEN),
                 message="both bots polling")
        _, children = stop(proc)
        api.interrupt_polls()
    assert proc.returncode == 0
    assert_nothing_left(before, children)


@pytest.mark.parametrize("start", range(20))
def test_a_worker_stops_within_5s_of_sigterm_at_any_moment(run_py, start):
    """Starts 0-9 get SIGTERM 0.0-0.9 s after launch (imports, RQ's scheduler fork); 10-19 once registered."""
    proc = run_py.start("worker", "--sweep-every", "0.2")
    if start < 10:
        time.sleep(start / 10)
    else:
        wait_for(lambda: rq_workers(run_py) == 1, message="the worker to register")
        time.sleep((start - 10) / 10)
    elapsed, children = stop(proc)
    output = proc.stdout.read()
    assert elapsed < STOP_LIMIT, f"stopped after {elapsed:.1f} s\n{output}"
    # A signal that lands before Python has set its handlers ends the process by the default action.
    assert proc.returncode in (0, -signal.SIGTERM), output
    assert_nothing_left(run_py.before, children)

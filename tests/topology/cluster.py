"""One helpdesk deployment on loopback, as deploy/README.md describes it: nginx in front of `run.py web --workers 2`,
two `run.py worker`s, the support bot on its webhook, PostgreSQL, redis-server, an SMTP server and the fake Bot API.
The test process is the operator (it kills and restarts services), the customers and the billing system."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import psutil
import requests
import yaml
from peewee import InterfaceError, OperationalError

from engine.settings import PROJECT_ROOT, Settings
from engine.runtime import start_runtime
from engine.store.migrations import upgrade
from tests.notify.conftest import NOTIFY_TOKEN, SUPPORT_TOKEN, Mailbox, _Port0Controller
from tests.telegram.fake_bot_api import FakeBotAPI
from tests.topology.services import Nginx, Postgres, RedisServer, free_port
from tests.waiting import HANG_CAP, wait_for

SECRET_KEY = "topology-secret"
POLICIES = {
    "default_locale": "ru",
    # Outages must not use up attempts: many quick ones; the sweep re-enqueues what Redis lost every 2 s.
    "delivery": {"max_attempts": 30, "retry_backoff": [1, 2, 3], "sweep_every": "2s"},
}


class Topology:
    """Start everything with `with Topology(tmp_path) as top:`; every process's output goes to tmp_path/logs."""

    def __init__(self, tmp_path: Path, web_workers: int = 2, database: str = "postgres"):
        """`web_workers`: 1 is waitress, more is gunicorn; `database`: "postgres" (a cluster of its own) or "sqlite"."""
        self.web_workers = web_workers
        self.database = database
        self.tmp = tmp_path
        self.logs = tmp_path / "logs"
        self.logs.mkdir()
        self.config_dir = tmp_path / "config"
        self.data_dir = tmp_path / "data"
        self.data_dir.mkdir()
        self.procs: dict[str, subprocess.Popen] = {}
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "Topology":
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def _start(self) -> None:
        import shutil

        shutil.copytree(PROJECT_ROOT / "config", self.config_dir)
        (self.config_dir / "policies.yaml").write_text(yaml.safe_dump({"policies": POLICIES}))
        self.postgres = Postgres() if self.database == "postgres" else None
        if self.postgres is not None:
            self._stack.callback(self.postgres.close)
        self.redis = RedisServer(self.tmp / "redis")
        self._stack.callback(self.redis.close)
        self.mailbox = Mailbox()
        smtp = _Port0Controller(self.mailbox, hostname="127.0.0.1", port=0)
        smtp.start()
        self._stack.callback(smtp.stop)
        self.bot_api = self._stack.enter_context(FakeBotAPI({NOTIFY_TOKEN: "notify_test_bot", SUPPORT_TOKEN: "sup_test_bot"}))
        self.web_port = free_port()
        self.nginx = Nginx(self.tmp / "nginx", self.web_port)
        self._stack.callback(self.nginx.close)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")},
            "HELPDESK_CONFIG": str(self.config_dir), "HELPDESK_DATA": str(self.data_dir),
            "DATABASE_URL": self.database_url, "REDIS_URL": self.redis.url, "SECRET_KEY": SECRET_KEY,
            "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "SUPPORT_BOT_TOKEN": SUPPORT_TOKEN, "NOTIFY_BOT_TOKEN": NOTIFY_TOKEN,
            "TELEGRAM_API_URL": self.bot_api.url, "PUBLIC_URL": self.nginx.url, "TRUSTED_PROXIES": "1",
            "LOG_FORMAT": "json", "HEARTBEAT_INTERVAL": "0.2", "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1",
        }
        self.rt = start_runtime(self.settings())
        self._stack.callback(self.rt.db.close)
        upgrade(self.rt.db)
        self._stack.callback(self._stop_processes)
        self.start("web", "web", "--workers", str(self.web_workers), "--port", str(self.web_port))
        for n in (1, 2):
            self.start(f"worker{n}", "worker")
        assert self.run("bot", "--set-webhook").returncode == 0  # the support bot answers on the webhook, behind nginx
        wait_for(lambda: self.status("/readyz") == 200, message="the web tier to be ready")
        wait_for(lambda: {p.role for p in self.processes()} >= {"web", "worker"} and len(self.processes("worker")) == 2,
                 message="two workers beating")

    @property
    def database_url(self) -> str:
        return self.postgres.url if self.postgres is not None else ""  # empty: SQLite in the data folder

    def settings(self) -> Settings:
        return Settings(config_dir=self.config_dir, data_dir=self.data_dir, database_url=self.database_url,
                        redis_url=self.redis.url, secret_key=SECRET_KEY, telegram_api_url=self.bot_api.url,
                        public_url=self.nginx.url, env=dict(self.env))

    # --- processes -------------------------------------------------------------------------------------------

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")
        proc = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "run.py"), *args], env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        log.close()
        self.procs[name] = proc
        return proc

    def run(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, str(PROJECT_ROOT / "run.py"), *args], env=self.env, capture_output=True,
                                text=True, timeout=HANG_CAP, cwd=PROJECT_ROOT)
        (self.logs / "commands.log").open("a").write(f"$ {' '.join(args)}\n{result.stdout}{result.stderr}")
        return result

    def _stop_processes(self) -> None:
        running = {name: proc for name, proc in self.procs.items() if proc.poll() is None}
        families = {name: _family(proc) for name, proc in running.items()}
        for proc in running.values():
            proc.terminate()
        for name, proc in running.items():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for member in families[name][1:]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    member.kill()

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def kill(self, name: str) -> list[psutil.Process]:
        """SIGKILL one process alone (as the OOM killer would); returns its children as they were."""
        proc = self.procs[name]
        children = _family(proc)[1:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        return children

    # --- observing ---------------------------------------------------------------------------------------------

    def status(self, path: str) -> int | None:
        try:
            return requests.get(f"{self.nginx.url}{path}", timeout=5).status_code
        except requests.RequestException:
            return None

    def processes(self, role: str | None = None):
        from engine.liveness import live_processes

        try:
            found = live_processes(self.rt.redis)
        except Exception:
            return []
        return [p for p in found if role is None or p.role == role]

    def query(self, fn):
        """`fn()` against the database, reconnecting once if a restart closed this process's connection."""
        for attempt in (1, 2):
            try:
                with self.rt.db.connection_context():
                    return fn()
            except (OperationalError, InterfaceError):
                self.rt.db.close()
                if attempt == 2:
                    raise


    def switch_times(self) -> dict[int, float]:
        """pid -> when (epoch seconds) the process last logged switching to another config version."""
        switched = {}
        for log in self.logs.glob("*.log"):
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("{") and "switched to config version" in line:
                    with contextlib.suppress(ValueError, KeyError):
                        entry = json.loads(line)
                        at = datetime.fromisoformat(entry["ts"].replace("Z", "+00:00")).timestamp()
                        switched[entry["pid"]] = max(at, switched.get(entry["pid"], 0.0))
        return switched


def _family(proc: subprocess.Popen) -> list[psutil.Process]:
    try:
        parent = psutil.Process(proc.pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []

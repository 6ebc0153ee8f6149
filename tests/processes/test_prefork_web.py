"""`run.py web --workers N`: several real processes behind one port, stopped by SIGTERM within 5 s leaving nothing;
forwarded headers trusted only when TRUSTED_PROXIES says so; refused without REDIS_URL."""
from __future__ import annotations

import http.client
import json
import re
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psutil
import requests

from app.commands.web import SERVER_BODY_MARGIN
from engine.catalog import load_catalog
from engine.liveness import live_processes
from engine.redis_conn import redis_url_of
from tests.processes.test_no_leftover_processes import (  # noqa: F401  (subreaper: autouse fixture)
    STOP_LIMIT, RunPy, assert_nothing_left, redis_servers, stop, subreaper,
)
from tests.waiting import wait_for
from web.security import max_body_size


class Output:
    """Every line a process writes (stdout and stderr merged), read by a thread so the pipe never fills."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc) -> None:
        for line in proc.stdout:
            self.lines.append(line)

    def url(self) -> str | None:
        for line in list(self.lines):
            found = re.search(r"Serving on (http://127\.0\.0\.1:\d+)", line)
            if found:
                return found.group(1)
        return None

    def access_pids(self, path: str) -> set[int]:
        """The pids of the processes whose JSON access log lines say they served `path`."""
        pids = set()
        for line in list(self.lines):
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("logger") == "helpdesk.access" and entry.get("path") == path:
                    pids.add(entry["pid"])
        return pids


@contextmanager
def prefork_web(tmp_path, config_dir, redis, workers=2, **env):
    """`run.py web --workers N --port 0` on a fresh database and the test's Redis; yields (process, output, url)."""
    run = RunPy(config_dir, tmp_path / "data", REDIS_URL=redis_url_of(redis), LOG_FORMAT="json", **env)
    assert run.run("db", "upgrade").returncode == 0
    proc = run.start("web", "--workers", str(workers), "--port", "0")
    output = Output(proc)
    try:
        wait_for(lambda: output.url() or proc.poll() is not None, message="gunicorn to listen")
        assert output.url(), "".join(output.lines)
        yield proc, output, output.url()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_two_workers_serve_the_login_page_and_stop_within_5s_leaving_nothing(tmp_path, config_dir, redis):
    before = redis_servers()
    with prefork_web(tmp_path, config_dir, redis) as (proc, output, url):
        wait_for(lambda: len(psutil.Process(proc.pid).children()) == 2, message="two worker processes")
        workers = {child.pid for child in psutil.Process(proc.pid).children()}

        def login_page(_):
            response = requests.get(f"{url}/login", timeout=10)  # a new connection each: any worker may accept it
            assert response.status_code == 200 and "Вход" in response.text
        with ThreadPoolExecutor(8) as pool:  # concurrent requests: a busy worker leaves the next one to the other
            wait_for(lambda: list(pool.map(login_page, range(16))) and output.access_pids("/login") == workers,
                     message="both workers to serve /login")

        elapsed, children = stop(proc)
        output.thread.join(5)
        assert proc.returncode == 0, "".join(output.lines)
        assert elapsed < STOP_LIMIT, f"stopped after {elapsed:.1f} s"
    assert {child.pid for child in children} == workers
    assert_nothing_left(before, children)


def declared_body(port: int, length: int) -> tuple[int, str]:
    """The status and content type answered to a POST /login announcing `length` bytes, none of them sent."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", "/login")
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", "")
    finally:
        connection.close()


def test_bodies_above_the_limit_get_the_apps_page_then_the_servers_cutoff(tmp_path, config_dir, redis):
    """As under waitress: a body a little too large gets the portal's own 413 page; one far larger (past the app's
    limit plus the server margin) is refused before the app reads it."""
    limit = max_body_size(load_catalog(config_dir))
    with prefork_web(tmp_path, config_dir, redis) as (_, _, url):
        port = int(url.rsplit(":", 1)[1])
        assert declared_body(port, limit + 1) == (413, "text/html; charset=utf-8")
        assert declared_body(port, limit + SERVER_BODY_MARGIN + 1) == (413, "text/plain; charset=utf-8")


def https_only_when_trusted(url: str) -> int:
    """Sign in (wrong password) with `X-Forwarded-Proto: https` and no Referer: on HTTPS Flask-WTF also demands a
    same-site Referer (400), so the status says which scheme the app saw: 401 for http, 400 for https."""
    client = requests.Session()
    page = client.get(f"{url}/login", timeout=10).text
    token = re.search(r'name="_csrf"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(f"{url}/login", data={"_csrf": token, "email": "nobody@example.com", "password": "x" * 12},
                           headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}, timeout=10)
    return response.status_code


def test_forwarded_proto_is_trusted_only_with_trusted_proxies(tmp_path, config_dir, redis):
    with prefork_web(tmp_path / "direct", config_dir, redis) as (_, _, url):
        assert https_only_when_trusted(url) == 401  # gunicorn's own trust of loopback proxies is off
    redis.flushall()
    with prefork_web(tmp_path / "proxied", config_dir, redis, TRUSTED_PROXIES="1") as (_, _, url):
        assert https_only_when_trusted(url) == 400


def test_several_workers_without_redis_url_are_refused(tmp_path, config_dir):
    run = RunPy(config_dir, tmp_path / "data")
    before = redis_servers()
    result = run.run("web", "--workers", "2", "--port", "0")
    assert result.returncode == 2
    assert "needs REDIS_URL" in result.stderr and "Serving on" not in result.stdout
    assert not (redis_servers() - before)  # no embedded server was started for it


def test_the_cutoff_follows_a_reload_in_every_worker(tmp_path, config_dir, redis):
    """`config reload` with a smaller attachment policy: once both gunicorn workers report the new version, each
    refuses a declared body past the new limit plus the margin before reading it."""
    with prefork_web(tmp_path, config_dir, redis, HEARTBEAT_INTERVAL="0.2") as (_, _, url):
        port = int(url.rsplit(":", 1)[1])
        wait_for(lambda: len(live_processes(redis)) == 2, message="two workers beating")
        policies = config_dir / "policies.yaml"
        policies.write_text(policies.read_text().replace("{max_files: 5, max_file_size_mb: 10}", "{max_files: 1, max_file_size_mb: 1}"))
        reloaded = RunPy(config_dir, tmp_path / "data", REDIS_URL=redis_url_of(redis)).run("config", "reload")
        assert reloaded.returncode == 0, reloaded.stdout
        version = load_catalog(config_dir).version
        wait_for(lambda: {p.version for p in live_processes(redis)} == {version}, message="both workers on the new version")
        lower = max_body_size(load_catalog(config_dir))
        for _ in range(6):  # new connections: either worker answers
            assert declared_body(port, lower + SERVER_BODY_MARGIN + 1) == (413, "text/plain; charset=utf-8")

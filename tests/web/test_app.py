"""The app factory's wiring and `run.py web` serving through waitress."""
from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import urllib.request

from app.commands.web import SERVER_BODY_MARGIN
from engine.redis_conn import redis_url_of
from engine.settings import PROJECT_ROOT
from tests.web.conftest import LiveServer
from web.security import max_body_size, persisted_secret_key


def test_secret_key_is_created_once_and_kept_private(tmp_path):
    key = persisted_secret_key(tmp_path)
    assert len(key) >= 40 and persisted_secret_key(tmp_path) == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_body_limit_follows_the_attachment_policy(app, rt):
    policy = rt.catalog.policies.attachments
    assert app.config["MAX_CONTENT_LENGTH"] >= policy.max_files * policy.max_file_size_mb * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] < 200 * 1024 * 1024


def test_run_py_web_serves_the_portal_with_waitress(tmp_path, config_dir, redis):
    env = {**os.environ, "HELPDESK_CONFIG": str(config_dir), "HELPDESK_DATA": str(tmp_path / "data"),
           "REDIS_URL": redis_url_of(redis), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "run.py"), "web", "--port", "0"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in process.stdout:
            found = re.search(r"Serving on (http://127\.0\.0\.1:\d+)", line)
            if found:
                break
        assert found, "run.py web exited without serving"
        with urllib.request.urlopen(f"{found.group(1)}/login", timeout=10) as response:
            assert response.status == 200 and response.headers["Server"] == "helpdesk"
            assert "Вход" in response.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_forwarded_client_address_is_trusted_only_behind_configured_proxies(rt, settings):
    from flask import request

    from web import create_app

    seen = []
    for hops in ("0", "1"):
        rt.settings = settings.with_overrides(env={"TRUSTED_PROXIES": hops})
        app = create_app(runtime=rt, overrides={"TESTING": True})
        app.before_request(lambda: seen.append(request.remote_addr))
        app.test_client().get("/login", headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen == ["127.0.0.1", "203.0.113.7"]


def declared_post(port: int, length: int, send: bool = False) -> tuple[int, str]:
    """Status and content type answered to a POST /login announcing `length` bytes, sent or not."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", "/login")
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(length))
        connection.endheaders(b"x" * length if send else None)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", "")
    finally:
        connection.close()


def test_the_servers_body_cutoff_follows_a_reload_of_the_attachment_policy(app, rt, config_dir):
    """waitress's own limit (app limit + margin) moves with the policy on reload, down and up, without a restart."""
    policies = config_dir / "policies.yaml"
    shipped = policies.read_text()
    live = LiveServer(app)
    try:
        before = max_body_size(rt.catalog) + SERVER_BODY_MARGIN
        assert live.server.adj.max_request_body_size == before
        policies.write_text(shipped.replace("{max_files: 5, max_file_size_mb: 10}", "{max_files: 1, max_file_size_mb: 1}"))
        assert rt.catalogs.reload()
        lower = max_body_size(rt.catalog)
        assert live.server.adj.max_request_body_size == lower + SERVER_BODY_MARGIN < before
        assert declared_post(live.port, lower + 1, send=True) == (413, "text/html; charset=utf-8")  # the app's page
        assert declared_post(live.port, lower + SERVER_BODY_MARGIN + 1) == (413, "text/plain; charset=utf-8")  # waitress's
        policies.write_text(shipped.replace("{max_files: 5, max_file_size_mb: 10}", "{max_files: 10, max_file_size_mb: 20}"))
        assert rt.catalogs.reload()
        higher = max_body_size(rt.catalog)
        assert higher > before and live.server.adj.max_request_body_size == higher + SERVER_BODY_MARGIN
        assert declared_post(live.port, higher + SERVER_BODY_MARGIN + 1) == (413, "text/plain; charset=utf-8")
    finally:
        live.stop()

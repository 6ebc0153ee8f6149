"""The shipped nginx site (deploy/nginx/helpdesk.conf): its body limit follows the shipped attachment policy, nginx
accepts it, and a real nginx on loopback in front of `run.py web --workers 2` serves pages and refuses /metrics."""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import requests

from engine.catalog import load_catalog
from engine.settings import PROJECT_ROOT
from tests.processes.test_prefork_web import declared_body, prefork_web
from tests.waiting import wait_for
from web.security import max_body_size

SITE = PROJECT_ROOT / "deploy" / "nginx" / "helpdesk.conf"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (tests/run.sh installs Debian's nginx-light)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_config(tmp_path: Path, listen_port: int, app_port: int) -> Path:
    """A minimal main config around the shipped site, everything under tmp_path; the site's own text changes only
    where it names ports: it listens on loopback and proxies to the test's app."""
    site = SITE.read_text()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen_port};").replace("listen [::]:80;", "")
    site = site.replace("server 127.0.0.1:8000 ", f"server 127.0.0.1:{app_port} ")
    (tmp_path / "helpdesk.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(f"""
        daemon off;
        worker_processes 1;
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/error.log;
        events {{ worker_connections 64; }}
        http {{
            access_log {tmp_path}/access.log;
            client_body_temp_path {tmp_path}/body;
            proxy_temp_path {tmp_path}/proxy;
            fastcgi_temp_path {tmp_path}/fastcgi;
            uwsgi_temp_path {tmp_path}/uwsgi;
            scgi_temp_path {tmp_path}/scgi;
            include {tmp_path}/helpdesk.conf;
        }}
    """)
    return main


def test_the_sites_body_limit_covers_the_shipped_attachment_policy():
    from channels import ensure_channels

    ensure_channels()
    megabytes = int(re.search(r"^\s*client_max_body_size (\d+)m;", SITE.read_text(), re.M).group(1))
    assert megabytes * 1024 * 1024 >= max_body_size(load_catalog(PROJECT_ROOT / "config")), \
        "deploy/nginx/helpdesk.conf refuses uploads config/policies.yaml allows: raise client_max_body_size"


@needs_nginx
def test_nginx_accepts_the_site(tmp_path):
    result = subprocess.run([NGINX, "-t", "-q", "-c", str(nginx_config(tmp_path, free_port(), 8000))],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


@needs_nginx
def test_nginx_in_front_of_two_web_processes(tmp_path, config_dir, redis):
    with prefork_web(tmp_path / "app", config_dir, redis, TRUSTED_PROXIES="1") as (_, output, url):
        port = free_port()
        nginx = subprocess.Popen([NGINX, "-c", str(nginx_config(tmp_path, port, int(url.rsplit(":", 1)[1])))],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            site = f"http://127.0.0.1:{port}"
            wait_for(lambda: nginx.poll() is not None or _answers(site), message="nginx to listen")
            assert nginx.poll() is None, nginx.stderr.read()
            page = requests.get(f"{site}/login", headers={"X-Request-ID": "trace-42"}, timeout=10)
            assert page.status_code == 200 and "Вход" in page.text
            assert page.headers["X-Request-ID"] == "trace-42"  # passed through to the app and back
            wait_for(lambda: any('"request_id": "trace-42"' in line for line in list(output.lines)),  # read by a thread
                     timeout=30, message="the access log line with the request id")
            assert requests.get(f"{site}/metrics", timeout=10).status_code == 403
            assert requests.get(f"{url}/metrics", timeout=10).status_code == 200  # direct loopback scrape
            assert declared_body(port, 257 * 1024 * 1024)[0] == 413  # past the ceiling: by nginx, before a byte is sent
        finally:
            nginx.terminate()
            nginx.wait(10)


def _answers(site: str) -> bool:
    try:
        requests.get(f"{site}/healthz", timeout=2)
        return True
    except requests.RequestException:  # not listening yet, or too slow to answer on a loaded machine
        return False

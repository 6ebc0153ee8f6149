"""Toy channel fixtures: the channel installed for one test, a config binding it, its local HTTP endpoint."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from engine.channel_registry import registry
from tests.channels import toy_channel
from tests.notify.conftest import workers  # noqa: F401 (fixture: `run.py worker` subprocesses)
from tests.web.conftest import app, as_role, cheap_password_hashing, users  # noqa: F401 (fixtures)

TOY_MODULE = "tests.channels.toy_channel"
TOY_BINDING = {"kind": "toy", "title": "Тестовый канал", "url_env": "TOY_URL"}
TOY_TEMPLATE = "Ответ по заявке №{{ ticket_number }}: {{ reply }}"


class ToyEndpoint:
    """A local HTTP server taking the toy channel's POSTs; `replies` programs the next statuses (default 200)."""

    def __init__(self):
        self.received: list[dict] = []
        self.replies: list[tuple[int, dict]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, headers = endpoint.replies.pop(0) if endpoint.replies else (200, {})
                if status < 300:
                    endpoint.received.append(body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def toy_installed():
    """The toy channel registered in this process for the test (the registry is restored after it)."""
    saved = registry.snapshot()
    registry.register(toy_channel.CHANNEL)
    yield toy_channel.CHANNEL
    registry.restore(saved)


@pytest.fixture
def endpoint():
    server = ToyEndpoint()
    yield server
    server.close()


def add_toy(config_dir) -> None:
    """Bind the toy channel in the config and give support_reply a toy template."""
    channels_path = config_dir / "notifications" / "channels.yaml"
    channels = yaml.safe_load(channels_path.read_text(encoding="utf-8"))
    channels["channels"]["hook"] = TOY_BINDING
    channels_path.write_text(yaml.safe_dump(channels, allow_unicode=True), encoding="utf-8")
    types_path = config_dir / "notifications" / "types.yaml"
    types = yaml.safe_load(types_path.read_text(encoding="utf-8"))
    types["types"]["support_reply"]["templates"]["toy"] = TOY_TEMPLATE
    types_path.write_text(yaml.safe_dump(types, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def config_dir(config_dir, toy_installed):
    add_toy(config_dir)
    return config_dir


@pytest.fixture
def settings(settings, endpoint):
    return settings.with_overrides(env={**settings.env, "TOY_URL": endpoint.url})

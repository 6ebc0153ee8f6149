"""Shared helpers of the web tests: a valid chat-problem submission, tickets made through the engine, `run.py web`."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from contextlib import contextmanager

from engine import tickets
from engine.attachments import Upload
from engine.redis_conn import redis_url_of
from engine.settings import PROJECT_ROOT

TOPIC_URL = "/c/chats/chat-problem"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def chat_problem(**overrides) -> dict:
    """Form values that pass the chat-problem form's validation."""
    values = {"account_id": "12345", "chat_id": "chat-1", "channel": "Telegram", "subject": "Бот молчит",
              "message": "После обновления бот не отвечает в Telegram."}
    values.update(overrides)
    return values


def make_ticket(rt, customer, files=(), **overrides):
    """A ticket created through the engine, as the web form would create it."""
    uploads = [Upload(name, data) for name, data in files]
    return tickets.create_ticket(rt, customer, "chats/chat-problem", chat_problem(**overrides), uploads, "web")


@contextmanager
def run_py_web(settings, redis, stderr=subprocess.DEVNULL, **env):
    """`python run.py web --port 0` on the test's config, data folder, database and Redis (plus `env`); yields
    (process, base URL) once it serves, and stops it (SIGTERM) at the end."""
    full_env = {**os.environ, "HELPDESK_CONFIG": str(settings.config_dir), "HELPDESK_DATA": str(settings.data_dir),
                "DATABASE_URL": settings.database_url, "REDIS_URL": redis_url_of(redis), "PYTHONUNBUFFERED": "1", **env}
    process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "run.py"), "web", "--port", "0"], env=full_env,
                               stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        found = None
        for line in process.stdout:
            found = re.search(r"Serving on (http://127\.0\.0\.1:\d+)", line)
            if found:
                break
        assert found, "run.py web exited without serving"
        yield process, found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)

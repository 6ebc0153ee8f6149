"""Secrets never reach a log: a bot whose network fails logs the request URL without its token."""
from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time

from channels.telegram.runner import BotRunner, apps_for
from engine.logsafe import MARKER, configure_logging
from engine.settings import PROJECT_ROOT
from tests.telegram.conftest import NOTIFY_TOKEN, SUPPORT_TOKEN
from tests.telegram.test_bot_command import run_py_env

SUPPORT_SECRET = SUPPORT_TOKEN.split(":", 1)[1]


def closed_port_url() -> str:
    """A local address nobody listens on: every request fails with a connection error naming the URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_failing_bot_process_logs_no_token(rt, settings, fake_api, tmp_path):
    """`run.py bot` whose Bot API server goes away: its whole stderr has no token, only the marker."""
    env = run_py_env(settings, SUPPORT_BOT_TOKEN=SUPPORT_TOKEN, NOTIFY_BOT_TOKEN=NOTIFY_TOKEN)
    log_path = tmp_path / "bot.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "run.py"), "bot"], env=env,
                                   stdout=log_file, stderr=subprocess.STDOUT)
    try:
        fake_api.wait_for(lambda: fake_api.calls_of("getUpdates", SUPPORT_TOKEN), timeout=30)
        fake_api.stop()  # the port closes: the next getUpdates fails with the URL in its error text
        deadline = time.monotonic() + 30
        while MARKER not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(20)
    output = log_path.read_text()
    assert "getUpdates failed" in output and f"/bot{MARKER}/getUpdates" in output
    assert SUPPORT_SECRET not in output and NOTIFY_TOKEN.split(":", 1)[1] not in output


def test_runner_in_process_logs_no_token(rt, settings, caplog):
    """The runner's own warning, captured at the root logger, carries the marker instead of the token."""
    rt.settings = settings.with_overrides(telegram_api_url=closed_port_url())
    runner = BotRunner(rt, apps_for(rt), poll_timeout=1)
    with caplog.at_level(logging.DEBUG):
        runner.start()
        deadline = time.monotonic() + 20
        while "getUpdates failed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        runner.stop()
    assert "getUpdates failed" in caplog.text and MARKER in caplog.text
    assert SUPPORT_SECRET not in caplog.text
    assert all(SUPPORT_SECRET not in str(r.args) and SUPPORT_SECRET not in str(r.msg) for r in caplog.records)


def test_every_kind_of_secret_is_redacted(caplog):
    """Environment secrets and secret-looking patterns, in messages, args and tracebacks."""
    configure_logging(environ={"SECRET_KEY": "flask-secret-key-value", "BILLING_TOKEN": "billing-token-value",
                               "SMTP_URL": "smtp://mailer:p%40ss-word-1@mail.example:587", "LEVEL": "verbose-value"})
    log = logging.getLogger("tests.redaction")
    with caplog.at_level(logging.INFO):
        log.info("key %s, billing %s", "flask-secret-key-value", "billing-token-value")
        log.info("smtp password %s, url %s", "p@ss-word-1", "smtps://user:other-pass@host:465")
        log.info("GET https://api.telegram.org/bot777:AAE-unknown_Token/sendMessage; %s", {"level": "verbose-value"})
        log.info("headers %r", {"Authorization": "Bearer evt-secret-123"})
        try:
            raise ConnectionError("Max retries exceeded with url: /bot42:Zz-traceback-token/getUpdates")
        except ConnectionError:
            log.exception("poll failed")
    for secret in ("flask-secret-key-value", "billing-token-value", "p@ss-word-1", "p%40ss-word-1", "other-pass",
                   "AAE-unknown_Token", "evt-secret-123", "Zz-traceback-token"):
        assert secret not in caplog.text
        assert all(secret not in r.getMessage() and secret not in (r.exc_text or "") for r in caplog.records)
    assert "bot777:[REDACTED]/sendMessage" in caplog.text and "Bearer [REDACTED]" in caplog.text
    assert "smtps://user:[REDACTED]@host:465" in caplog.text and "verbose-value" in caplog.text
    assert "Traceback" in caplog.text and "/bot42:[REDACTED]/getUpdates" in caplog.text

"""`python run.py bot` as an operator runs it: clear failures at start, then polling every bot."""
from __future__ import annotations

import os
import subprocess
import sys

from engine.settings import PROJECT_ROOT
from tests.telegram.conftest import NOTIFY_TOKEN, SUPPORT_TOKEN, text


def run_py_env(settings, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
    env.update(HELPDESK_CONFIG=str(settings.config_dir), HELPDESK_DATA=str(settings.data_dir), SECRET_KEY="s",
               TELEGRAM_API_URL=settings.telegram_api_url, **extra)
    return env


def test_missing_token_exits_naming_the_binding(rt, settings):
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "run.py"), "bot"], capture_output=True, text=True,
                            env=run_py_env(settings, SUPPORT_BOT_TOKEN=SUPPORT_TOKEN), timeout=60)
    assert result.returncode == 2
    assert "error: bot tokens are not set: NOTIFY_BOT_TOKEN (binding notify_bot)" in result.stderr


def test_every_missing_token_is_named_at_once_before_any_service_is_touched(rt, settings, tmp_path):
    """Checked before Redis, the database or Telegram: with all three unreachable it still fails at once, naming both."""
    unreachable = dict(REDIS_URL="redis://127.0.0.1:9/0", DATABASE_URL="postgresql://nobody@127.0.0.1:9/none",
                       TELEGRAM_API_URL="http://127.0.0.1:9", HELPDESK_DATA=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "run.py"), "bot"], capture_output=True, text=True,
                            env={**run_py_env(settings), **unreachable}, timeout=60)
    assert result.returncode != 0
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "NOTIFY_BOT_TOKEN" in line and "SUPPORT_BOT_TOKEN" in line
    assert "Connection" not in result.stderr and "retry" not in result.stderr.lower()


def test_only_the_wanted_bindings_need_tokens(rt, settings, fake_api):
    """--binding support_bot starts without NOTIFY_BOT_TOKEN (that bot is just reported as not configured)."""
    env = run_py_env(settings, SUPPORT_BOT_TOKEN=SUPPORT_TOKEN)
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "run.py"), "bot", "--binding", "support_bot", "--set-webhook"],
                            capture_output=True, text=True, env={**env, "PUBLIC_URL": "https://help.example.com"}, timeout=60)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if " WARNING " in line]
    assert any("channel notify_bot is not configured: NOTIFY_BOT_TOKEN is not set" in line for line in warnings)


def test_refused_token_exits_naming_the_binding(rt, settings, fake_api):
    env = run_py_env(settings, SUPPORT_BOT_TOKEN="1001:revoked", NOTIFY_BOT_TOKEN=NOTIFY_TOKEN)
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "run.py"), "bot"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 2
    assert "error: telegram binding 'support_bot': Telegram refused the token (401 Unauthorized)" in result.stderr


def test_bot_process_answers_over_the_configured_server(rt, settings, fake_api):
    """TELEGRAM_API_URL points the process at the fake server; it sets the Menu and answers /help."""
    env = run_py_env(settings, SUPPORT_BOT_TOKEN=SUPPORT_TOKEN, NOTIFY_BOT_TOKEN=NOTIFY_TOKEN)
    process = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "run.py"), "bot"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        fake_api.wait_for(lambda: fake_api.calls_of("getUpdates", SUPPORT_TOKEN) and fake_api.calls_of("getUpdates", NOTIFY_TOKEN),
                          timeout=30)
        fake_api.user_text(SUPPORT_TOKEN, 51, "/help")
        [message] = fake_api.wait_sent(51, 1, SUPPORT_TOKEN, timeout=15)
        assert message["text"] == text(rt, "help")
        assert fake_api.bots[SUPPORT_TOKEN].commands and not fake_api.bots[NOTIFY_TOKEN].commands
    finally:
        process.terminate()
        fake_api.interrupt_polls()
        assert process.wait(20) == 0

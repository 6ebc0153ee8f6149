"""Telegram fixtures: a fake Bot API server per test and settings pointing the bots at it."""
from __future__ import annotations

import pytest
import yaml

from channels.telegram.runner import BotRunner, apps_for
from tests.telegram.fake_bot_api import FakeBotAPI

SUPPORT_TOKEN = "1001:SUPPORT-test-token"
NOTIFY_TOKEN = "1002:NOTIFY-test-token"


FAST_CHAT_RATE = 20  # messages/s per chat in conversation tests; tests of the pacing itself set PACED_AT_TELEGRAM_RATES


@pytest.fixture(autouse=True)
def conversation_pace(request, config_dir):
    """Conversation tests are about what the bot says, not about Telegram's 1 message/s per chat, which would make
    every step wait a second: their config allows 20/s per chat. A module with PACED_AT_TELEGRAM_RATES = True keeps
    the config's rates (tests/telegram/test_reply_pacing.py)."""
    if getattr(request.module, "PACED_AT_TELEGRAM_RATES", False):
        return
    path = config_dir / "policies.yaml"
    data = yaml.safe_load(path.read_text()) or {}
    rates = data.setdefault("policies", {}).setdefault("telegram_rate", {})
    rates["per_chat_per_second"] = FAST_CHAT_RATE
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


@pytest.fixture
def fake_api():
    """A running fake Bot API knowing the support and notification bot tokens."""
    with FakeBotAPI({SUPPORT_TOKEN: "sup_test_bot", NOTIFY_TOKEN: "notify_test_bot"}) as api:
        yield api


@pytest.fixture
def settings(settings, fake_api):
    """The shared settings with TELEGRAM_API_URL at the fake server and both bot tokens set."""
    return settings.with_overrides(
        telegram_api_url=fake_api.url,
        env={**settings.env, "SUPPORT_BOT_TOKEN": SUPPORT_TOKEN, "NOTIFY_BOT_TOKEN": NOTIFY_TOKEN},
    )


@pytest.fixture
def bots(rt, fake_api):
    """Every configured bot polling the fake server (1 s long polls), stopped after the test."""
    runner = BotRunner(rt, apps_for(rt), poll_timeout=1)
    runner.prepare()
    runner.start()
    yield runner
    runner.stopping.set()
    fake_api.interrupt_polls()
    runner.stop()


def text(rt, key: str, locale: str = "ru", **params) -> str:
    """A telegram UI text of the current catalog, for exact assertions."""
    return rt.catalog.text(locale, "telegram", key, **params)

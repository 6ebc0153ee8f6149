"""One token serving both roles: a single binding with serves [notifications, tickets], or two bindings sharing it."""
from __future__ import annotations

import pytest
import yaml

from channels.telegram.runner import apps_for
from engine import accounts, delivery
from engine import notify as notify_module
from engine.store.models import Delivery
from tests.telegram.chat import Chat
from tests.telegram.conftest import SUPPORT_TOKEN, text
from tests.waiting import wait_for

def rewrite_channels(config_dir, change) -> None:
    path = config_dir / "notifications" / "channels.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["channels"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def one_bot(channels: dict) -> None:
    """support_bot takes over notify_bot's role; notify_bot is gone."""
    del channels["notify_bot"]
    channels["support_bot"]["serves"] = ["notifications", "tickets"]
    channels["support_bot"].pop("notifications")


@pytest.fixture
def config_dir(config_dir):
    rewrite_channels(config_dir, one_bot)
    return config_dir


def test_one_binding_serves_tickets_and_notifications(rt, fake_api, bots):
    """The same chat creates tickets and receives low-balance notices."""
    customer = accounts.create_user("both@example.com", "secret-password-1")
    chat = Chat(fake_api, SUPPORT_TOKEN, 4040)
    chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    assert chat.last == text(rt, "start_linked")
    assert [c["command"] for c in fake_api.bots[SUPPORT_TOKEN].commands][0] == "createticket"
    notify_module.notify(rt.catalog, customer, "low_balance", {"balance": 3, "currency": "RUB"})
    row = Delivery.get(Delivery.channel == "telegram")
    wait_for(lambda: delivery.process(rt, row.id) == "sent", interval=0.2)
    assert "3 RUB" in chat.last
    chat.send("/createticket")
    assert chat.last == text(rt, "choose_category")


def test_two_bindings_with_one_token_poll_once(rt, settings):
    """Two bindings naming the same token share one poller (Telegram allows one getUpdates per token)."""
    rt.settings = settings.with_overrides(env={"SUPPORT_BOT_TOKEN": SUPPORT_TOKEN, "OTHER": SUPPORT_TOKEN})
    rewrite_channels(rt.settings.config_dir, lambda channels: channels.update(
        notify_bot={"kind": "telegram", "token_env": "OTHER", "serves": ["notifications"]}))
    assert rt.catalogs.reload()
    [app] = apps_for(rt)
    assert (sorted(app.binding_ids), app.primary) == (["notify_bot", "support_bot"], "support_bot")

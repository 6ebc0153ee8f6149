"""In Chromium with the fake Bot API: a Telegram-first customer creates a ticket in the support bot, later signs in on
the web with an email account, enters the bot's code in the settings and finds the ticket there; the chat then acts
as the web account."""
from __future__ import annotations

import re
import shutil

import pytest
import yaml
from playwright.sync_api import expect

from engine.settings import PROJECT_ROOT
from engine.store.models import Ticket
from tests.telegram.chat import Chat
from tests.telegram.conftest import FAST_CHAT_RATE, NOTIFY_TOKEN, SUPPORT_TOKEN, bots, fake_api  # noqa: F401 (fixtures)
from tests.web.test_browser import shot, sign_in  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
CODE_RE = re.compile(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b")


@pytest.fixture
def config_dir(tmp_path):
    """PlanetaHost (seed 000) with Telegram-first customers, the bot's replies not paced at 1/s per chat."""
    target = tmp_path / "planetahost"
    shutil.copytree(PROJECT_ROOT / "examples" / "planetahost", target)
    path = target / "policies.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["policies"]["signup"] = {"telegram_first": True}
    data["policies"]["telegram_rate"] = {"per_chat_per_second": FAST_CHAT_RATE}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


@pytest.fixture
def settings(settings, fake_api):  # noqa: F811
    return settings.with_overrides(telegram_api_url=fake_api.url, env={
        **settings.env, "SUPPORT_BOT_TOKEN": SUPPORT_TOKEN, "NOTIFY_BOT_TOKEN": NOTIFY_TOKEN})


def test_telegram_first_ticket_claimed_on_the_web(rt, fake_api, bots, sign_in, users):  # noqa: F811
    chat = Chat(fake_api, SUPPORT_TOKEN, 626262, username="new_client")
    chat.send("/createticket")
    chat.send("Не открывается сайт").press("Пропустить")
    chat.send("Сайт выдаёт 502").press("Завершить")
    ticket = Ticket.get()
    assert ticket.customer.telegram_id == 626262
    chat.send("/code")
    code = CODE_RE.search(chat.last).group(1)

    page = sign_in(users["customer"].email)
    page.goto("/tickets")
    expect(page.get_by_text(f"#{ticket.number}")).to_have_count(0)
    page.goto("/settings")
    page.get_by_label("Код из Telegram").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Перенести запросы").click()
    expect(page.locator(".alert-ok")).to_contain_text("запросы из Telegram перенесены")
    shot(page, "telegram-first-01-claimed")
    page.goto("/tickets")
    expect(page.get_by_text(f"#{ticket.number}").first).to_be_visible()
    page.get_by_text(f"#{ticket.number}").first.click()
    expect(page.get_by_text("Сайт выдаёт 502")).to_be_visible()

    chat.send("/code")
    assert "уже привязан к аккаунту с адресом" in chat.last

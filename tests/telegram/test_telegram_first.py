"""Telegram-first customers against the fake Bot API (PlanetaHost config with `signup.telegram_first`): a stranger
creates a ticket at once, gets a code for the web, and after the claim the chat acts as the web account."""
from __future__ import annotations

import re

import pytest
import yaml

from engine import accounts, telegram_first
from engine.store.models import Ticket, User
from tests.accounts.conftest import set_signup
from tests.telegram.chat import Chat
from tests.telegram.conftest import SUPPORT_TOKEN, text
from tests.telegram.test_seed_story import config_dir  # noqa: F401 (fixture: the PlanetaHost config)

pytestmark = pytest.mark.postgres
CHAT = 515151
CODE_RE = re.compile(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b")


@pytest.fixture
def first(rt):
    """The policy switched on before the bots start (their Menu lists /code then); group replies not paced at
    Telegram's 20 a minute (the group test waits for two)."""
    path = rt.settings.config_dir / "policies.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["policies"].setdefault("telegram_rate", {})["per_group_per_minute"] = 1200
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    set_signup(rt, telegram_first=True)
    return rt


def create_ticket(chat: Chat) -> Ticket:
    chat.send("/createticket")
    chat.send("Не открывается сайт").press("Пропустить")
    chat.send("Сайт выдаёт 502").press("Завершить")
    return Ticket.get()


def test_a_stranger_creates_a_ticket_and_claims_it_with_a_web_account(first, fake_api, bots):
    assert [c["command"] for c in fake_api.bots[SUPPORT_TOKEN].commands][-1] == "code"
    chat = Chat(fake_api, SUPPORT_TOKEN, CHAT, username="stranger_tg")
    chat.send("/start")
    assert chat.last == text(first, "start_telegram_first") and chat.buttons() == ["Код для сайта"]
    assert User.select().count() == 0  # a greeting makes no account

    ticket = create_ticket(chat)
    assert chat.last == text(first, "ticket_created", number=ticket.number)
    owner = ticket.customer
    assert owner.telegram_id == CHAT and telegram_first.is_telegram_first(owner) and owner.name == "Test"

    chat.press("Код для сайта")
    code = CODE_RE.search(chat.last).group(1)
    assert chat.last == text(first, "claim_code", code=code, minutes=15)
    web = accounts.create_user("vera@example.com", "long enough secret", name="Вера")
    telegram_first.claim(first, code, web, "ru")

    chat.send("/tickets")
    assert any(f"#{ticket.number}" in t for t in chat.texts()[-2:])
    assert Ticket.get_by_id(ticket.id).customer_id == web.id
    chat.send("/code")
    assert chat.last == text(first, "claim_not_needed")
    chat.send("/createticket")  # the chat acts as the web account: no second Telegram-first account
    assert User.select().count() == 1


def test_seed_000_username_still_links_the_web_account(first, fake_api, bots):
    """A web account that named this Telegram username (support switched on) is linked, not a new account made."""
    customer = accounts.create_user("client@example.com", "secret-password-1")
    accounts.set_telegram_username(first, customer, "client_tg", enabled=True)
    chat = Chat(fake_api, SUPPORT_TOKEN, CHAT, username="client_tg")
    ticket = create_ticket(chat)
    assert ticket.customer_id == customer.id and User.select().count() == 1
    chat.send("/code")
    assert chat.last == text(first, "claim_not_needed")


def test_group_chats_get_no_account_and_no_code(first, fake_api, bots):
    group = Chat(fake_api, SUPPORT_TOKEN, -1001, chat_type="group", user_id=CHAT)
    group.send("/createticket")
    assert group.last == text(first, "not_linked")
    group.send("/code")
    assert group.last == text(first, "claim_code_private_only")
    assert User.select().count() == 0


def test_codes_are_rate_limited_per_telegram_user(first, fake_api, bots):
    chat = Chat(fake_api, SUPPORT_TOKEN, CHAT)
    for _ in range(5):
        chat.send("/code")
        assert CODE_RE.search(chat.last)
    chat.send("/code")
    assert chat.last.startswith(text(first, "claim_code_rate_limited", seconds=1)[:30])

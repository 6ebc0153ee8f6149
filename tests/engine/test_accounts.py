"""Accounts: passwords, extra emails, Telegram usernames and one-time link tokens."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine import accounts
from engine.errors import Conflict, LinkTokenInvalid, NotFound, ValidationFailed
from engine.store.models import LinkToken, TelegramLink, User

pytestmark = pytest.mark.postgres


def test_password_is_hashed_with_argon2(rt, customer):
    assert customer.password_hash.startswith("$argon2id$") and "customer-password" not in customer.password_hash
    assert accounts.authenticate(" Customer@Example.COM ", "customer-password").id == customer.id
    assert accounts.authenticate("customer@example.com", "wrong") is None
    assert accounts.authenticate("nobody@example.com", "customer-password") is None


def test_disabled_or_passwordless_accounts_cannot_log_in(rt):
    accounts.create_user("nopass@example.com", None)
    assert accounts.authenticate("nopass@example.com", "") is None
    user = accounts.create_user("off@example.com", "password-1")
    User.update(is_active=False).where(User.id == user.id).execute()
    assert accounts.authenticate("off@example.com", "password-1") is None


def test_duplicate_email_is_a_conflict(rt, customer):
    with pytest.raises(Conflict):
        accounts.create_user("CUSTOMER@example.com", "x")
    with pytest.raises(ValueError):
        accounts.create_user("x@example.com", "x", role="root")
    for bad in ("no-at-sign", "a,b@example.com", "x@example.com\r\nBcc: y@example.com"):
        with pytest.raises(ValueError):
            accounts.create_user(bad, "x")


def test_notify_emails_for_a_team_sharing_one_account(rt, customer):
    assert accounts.set_notify_emails(rt, customer, ["Dev@Example.com", "", "dev@example.com", "customer@example.com"]) == ["dev@example.com"]
    assert User.get_by_id(customer.id).notify_emails == ["dev@example.com"]
    with pytest.raises(ValidationFailed) as exc:
        accounts.set_notify_emails(rt, customer, ["ok@example.com", "a@b.c\r\nBcc: x@evil.com"])
    assert exc.value.errors == {"notify_emails": "a@b.c\r\nBcc: x@evil.com: Поле содержит недопустимые символы."}
    with pytest.raises(ValidationFailed):
        accounts.set_notify_emails(rt, customer, [f"u{i}@example.com" for i in range(11)])


@pytest.mark.parametrize("username, stored", [("@Vasya_Pupkin", "vasya_pupkin"), ("vasya5", "vasya5"), ("", None)])
def test_telegram_username_in_settings(rt, customer, username, stored):
    accounts.set_telegram_username(rt, customer, username, enabled=True)
    assert (User.get_by_id(customer.id).telegram_username, customer.support_in_telegram) == (stored, True)


@pytest.mark.parametrize("username", ["ab", "with space", "кириллица", "a" * 40, "<script>"])
def test_bad_telegram_username_is_refused(rt, customer, username):
    with pytest.raises(ValidationFailed) as exc:
        accounts.set_telegram_username(rt, customer, username)
    assert exc.value.errors == {"telegram_username": "Введите имя пользователя Telegram без @: 5–32 латинские буквы, цифры или _."}


def test_link_token_links_a_private_chat_once(rt, customer):
    token = accounts.issue_link_token(rt, customer, "notify_bot")
    assert len(token) >= 43 and LinkToken.get().token_hash != token
    link = accounts.consume_link_token(rt, token, "notify_bot", 555, 777, "@Vasya", "private")
    assert (link.user_id, link.chat_id, link.tg_user_id, link.tg_username, link.active) == (customer.id, 555, 777, "vasya", True)
    with pytest.raises(LinkTokenInvalid):
        accounts.consume_link_token(rt, token, "notify_bot", 555, 777, "@Vasya", "private")


@pytest.mark.parametrize("case", ["group", "supergroup", "expired", "other_bot", "garbage"])
def test_link_token_refused(rt, customer, case):
    token = accounts.issue_link_token(rt, customer, "notify_bot")
    chat_type, binding = "private", "notify_bot"
    if case in ("group", "supergroup"):
        chat_type = case
    elif case == "expired":
        LinkToken.update(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)).execute()
    elif case == "other_bot":
        binding = "support_bot"
    elif case == "garbage":
        token = "x" * 43
    with pytest.raises(LinkTokenInvalid):
        accounts.consume_link_token(rt, token, binding, -100, 777, "vasya", chat_type)
    assert TelegramLink.select().count() == 0


def test_link_token_ttl_comes_from_policies(rt, customer):
    accounts.issue_link_token(rt, customer, "notify_bot")
    token = LinkToken.get()
    assert timedelta(minutes=14) < token.expires_at - token.created_at <= timedelta(minutes=15)


def test_unknown_binding_is_not_found(rt, customer):
    with pytest.raises(NotFound):
        accounts.issue_link_token(rt, customer, "email")


def test_link_is_bound_to_the_numeric_telegram_user(rt, customer):
    """Someone else writing from the same chat id (a forged or reused chat) is not the customer."""
    accounts.consume_link_token(rt, accounts.issue_link_token(rt, customer, "notify_bot"), "notify_bot", 555, 777, None, "private")
    assert accounts.linked_user("notify_bot", 555, 777).id == customer.id
    assert accounts.linked_user("notify_bot", 555, 778) is None
    assert accounts.linked_user("support_bot", 555, 777) is None
    assert accounts.unlink("notify_bot", 555, "blocked by the user")
    assert accounts.linked_user("notify_bot", 555, 777) is None


def test_relinking_a_chat_points_it_to_the_new_owner(rt, customer, other_customer):
    accounts.consume_link_token(rt, accounts.issue_link_token(rt, customer, "notify_bot"), "notify_bot", 555, 777, None, "private")
    accounts.consume_link_token(rt, accounts.issue_link_token(rt, other_customer, "notify_bot"), "notify_bot", 555, 777, None, "private")
    assert [link.user_id for link in TelegramLink.select()] == [other_customer.id]


def test_link_by_username_from_settings(rt, customer, other_customer):
    accounts.set_telegram_username(rt, customer, "@Vasya_P")
    link = accounts.link_by_username(rt, "notify_bot", 555, 777, "vasya_p", "private")
    assert link.user_id == customer.id
    assert accounts.link_by_username(rt, "notify_bot", 556, 778, "nobody_here", "private") is None
    assert accounts.link_by_username(rt, "notify_bot", -100, 777, "vasya_p", "group") is None


def test_support_bot_links_by_username_only_with_support_enabled(rt, customer):
    """Seed 000: the ticket bot needs "Включить работу с поддержкой"; the notification bot needs only the username."""
    accounts.set_telegram_username(rt, customer, "vasya_p", enabled=False)
    assert accounts.link_by_username(rt, "support_bot", 555, 777, "vasya_p", "private") is None
    accounts.set_telegram_username(rt, customer, "vasya_p", enabled=True)
    assert accounts.link_by_username(rt, "support_bot", 555, 777, "vasya_p", "private").user_id == customer.id


def test_link_by_username_needs_the_binding_to_allow_it(rt, customer, config_dir):
    channels = config_dir / "notifications" / "channels.yaml"
    channels.write_text(channels.read_text().replace("    link_by_username: true\n", ""))
    rt.catalogs.reload()
    accounts.set_telegram_username(rt, customer, "vasya_p", enabled=True)
    assert accounts.link_by_username(rt, "notify_bot", 555, 777, "vasya_p", "private") is None


def test_link_by_username_refuses_an_ambiguous_name(rt, customer, other_customer):
    accounts.set_telegram_username(rt, customer, "twin_team")
    accounts.set_telegram_username(rt, other_customer, "Twin_Team")
    assert accounts.link_by_username(rt, "notify_bot", 555, 777, "twin_team", "private") is None


@pytest.mark.parametrize("chat_type", ["group", "supergroup"])
def test_link_token_sent_to_a_group_is_spent(rt, customer, chat_type):
    """Any bot seeing the code in a group spends it: no group member, nor its owner, can link with it afterwards."""
    token = accounts.issue_link_token(rt, customer, "notify_bot")
    with pytest.raises(LinkTokenInvalid, match="spent"):
        accounts.consume_link_token(rt, token, "support_bot", -100, 777, "vasya", chat_type)
    assert LinkToken.get().used_at is not None
    with pytest.raises(LinkTokenInvalid, match="unknown, expired or used"):
        accounts.consume_link_token(rt, token, "notify_bot", 555, 777, "vasya", "private")
    assert TelegramLink.select().count() == 0

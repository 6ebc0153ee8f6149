"""engine.telegram_first and engine.account_merge: accounts bound to a Telegram id, races, claim codes, the merge."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engine import account_tokens, accounts, signup, telegram_first, tickets
from engine.channel_registry import registry
from engine.errors import ValidationFailed
from engine.store.models import (
    AccountToken, AuditLog, Message, Notification, TelegramLink, Ticket, TicketEvent, User, WebSession,
)
from engine.sessions import start_session
from tests.accounts.conftest import FORGOT, LINK, set_signup
from tests.web.helpers import chat_problem

pytestmark = pytest.mark.postgres  # the unique telegram id, savepoints and conditional UPDATEs: both databases
TG_ID = 777001
PASSWORD = "long enough secret"


@pytest.fixture
def first(rt):
    set_signup(rt, telegram_first=True)
    return rt


def bot_customer(rt, tg_id=TG_ID, chat_id=None, binding="support_bot", name="Ivan Petrov"):
    return telegram_first.customer_for(rt, binding, chat_id or tg_id, tg_id, "ivan_tg", name, "ru")


def telegram_ticket(rt, customer) -> Ticket:
    return tickets.create_ticket(rt, customer, "chats/chat-problem", chat_problem(), [], "telegram")


def test_first_contact_makes_one_account_bound_to_the_telegram_id(first):
    user = bot_customer(first)
    assert (user.telegram_id, user.name, user.role, user.password_hash) == (TG_ID, "Ivan Petrov", "customer", "")
    assert telegram_first.is_telegram_first(user) and accounts.authenticate(user.email, "") is None
    assert accounts.linked_user("support_bot", TG_ID, TG_ID) == user
    assert bot_customer(first) == user  # the next message: the same account
    other_bot = bot_customer(first, binding="notify_bot")
    assert other_bot == user and User.select().count() == 1
    assert AuditLog.get(AuditLog.action == "telegram_first_account").detail["user_id"] == user.id
    assert registry.get("email").targets(first.catalog, user, "support_reply", True) == []  # never emailed


def test_racing_first_updates_give_one_account(first):
    threads, results, errors = 8, [], []
    barrier = threading.Barrier(threads)

    def worker(i):
        try:
            barrier.wait()
            results.append(bot_customer(first, chat_id=TG_ID + i % 2).id)  # two chats of one person at once
        except Exception as exc:  # pragma: no cover - the assertion below shows it
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors and len(set(results)) == 1
    assert User.select().count() == 1 and TelegramLink.select().count() == 2


def test_a_claim_code_merges_both_histories_into_the_web_account(first):
    web = accounts.create_user("anna@example.com", PASSWORD, name="Анна")
    web_ticket = tickets.create_ticket(first, web, "chats/chat-problem", chat_problem(), [], "web")
    tg = bot_customer(first)
    tg_ticket = telegram_ticket(first, tg)
    tickets.add_reply(first, tg_ticket, tg, "ещё подробности", [], "telegram")
    tickets.archive_ticket(first, tg_ticket, tg, "")
    session = start_session(tg)  # (cannot happen from the web, but whatever is the source's goes)
    code = telegram_first.issue_claim_code(first, tg)
    assert len(code) == 11 and code[5] == "-"
    stored = AccountToken.get(AccountToken.purpose == "claim")
    assert telegram_first.normalize_code(code) not in stored.token_hash  # hashed at rest

    report = telegram_first.claim(first, f"  {code.lower()} ", web, "ru")  # case and spaces do not matter
    assert (report.tickets, report.telegram_links) == (1, 1)
    assert User.get_or_none(User.id == tg.id) is None
    assert {t.id for t in Ticket.select().where(Ticket.customer == web)} == {web_ticket.id, tg_ticket.id}
    assert Message.select().where(Message.author == tg.id).count() == 0
    assert Message.select().where((Message.author == web) & (Message.ticket == tg_ticket)).count() == 2
    assert TicketEvent.select().where(TicketEvent.actor == web).count() >= 1
    assert Notification.select().where(Notification.user == tg.id).count() == 0
    assert accounts.linked_user("support_bot", TG_ID, TG_ID) == web  # the chat now acts as the web account
    assert User.get_by_id(web.id).telegram_id == TG_ID
    assert not WebSession.select().where(WebSession.key == session).exists()
    audit = AuditLog.get(AuditLog.action == "account_merge")
    assert (audit.actor_id, audit.detail["source_id"], audit.detail["reason"]) == (web.id, tg.id, "telegram_claim")
    assert bot_customer(first) == User.get_by_id(web.id)  # a later first contact finds the merged account
    with pytest.raises(ValidationFailed):
        telegram_first.claim(first, code, web, "ru")  # single use


def test_unusable_codes_are_refused_and_not_spent(first):
    web = accounts.create_user("anna@example.com", PASSWORD)
    staff = accounts.create_user("agent@example.com", PASSWORD, role="agent")
    tg = bot_customer(first)
    code = telegram_first.issue_claim_code(first, tg)
    for bad in ("", "12345", "AAAAA-AAAAA", code + "X"):
        with pytest.raises(ValidationFailed) as refused:
            telegram_first.claim(first, bad, web, "ru")
        assert refused.value.errors["code"] == first.catalog.text("ru", "validation", "claim_code_invalid")
    with pytest.raises(ValidationFailed) as refused:
        telegram_first.claim(first, code, staff, "ru")
    assert refused.value.errors["code"] == first.catalog.text("ru", "validation", "claim_not_customer")
    User.update(telegram_id=5).where(User.id == web.id).execute()
    with pytest.raises(ValidationFailed):
        telegram_first.claim(first, code, User.get_by_id(web.id), "ru")  # already bound to another Telegram user
    newer = telegram_first.issue_claim_code(first, tg)
    with pytest.raises(ValidationFailed):
        telegram_first.claim(first, code, staff, "ru")  # a newer code replaced it
    AccountToken.update(expires_at=accounts.utcnow() - timedelta(seconds=1)).where(AccountToken.purpose == "claim").execute()
    other = accounts.create_user("boris@example.com", PASSWORD)
    with pytest.raises(ValidationFailed):
        telegram_first.claim(first, newer, other, "ru")  # expired
    assert User.get_or_none(User.id == tg.id) is not None


def test_racing_claims_of_one_code_merge_once(first):
    tg = bot_customer(first)
    telegram_ticket(first, tg)
    code = telegram_first.issue_claim_code(first, tg)
    targets = [accounts.create_user(f"u{i}@example.com", PASSWORD) for i in range(4)]
    barrier, outcomes = threading.Barrier(len(targets)), []

    def worker(target):
        barrier.wait()
        try:
            outcomes.append(telegram_first.claim(first, code, target, "ru").target_id)
        except ValidationFailed:
            outcomes.append(None)

    pool = [threading.Thread(target=worker, args=(t,)) for t in targets]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    winners = [o for o in outcomes if o]
    assert len(winners) == 1 and Ticket.get().customer_id == winners[0]


def test_sign_up_with_a_code_claims_and_a_taken_address_leaves_it_unspent(first):
    tg = bot_customer(first)
    telegram_ticket(first, tg)
    existing = accounts.create_user("taken@example.com", PASSWORD)
    code = telegram_first.issue_claim_code(first, tg)
    signup.sign_up(first, "taken@example.com", PASSWORD, "x", "ru", LINK.format, FORGOT, claim_code=code)
    assert Ticket.get().customer_id == tg.id and telegram_first.claim_owner(code) == tg
    with pytest.raises(ValidationFailed) as refused:
        signup.sign_up(first, "new@example.com", PASSWORD, "x", "ru", LINK.format, FORGOT, claim_code="AAAAA-AAAAA")
    assert "code" in refused.value.errors and not User.select().where(User.email == "new@example.com").exists()
    signup.sign_up(first, "new@example.com", PASSWORD, "Иван", "ru", LINK.format, FORGOT, claim_code=code)
    new = User.get(User.email == "new@example.com")
    assert Ticket.get().customer_id == new.id and new.telegram_id == TG_ID and existing.telegram_id is None
    assert accounts.linked_user("support_bot", TG_ID, TG_ID) == new


def test_the_first_proof_of_an_address_drops_telegram_bound_by_whoever_signed_up(first):
    """An account signed up with someone else's address and a code: when the address owner resets the password,
    the signer's Telegram chat no longer acts as the account."""
    tg = bot_customer(first)
    signup.sign_up(first, "victim@example.com", PASSWORD, "x", "ru", LINK.format, FORGOT,
                   claim_code=telegram_first.issue_claim_code(first, tg))
    victim = User.get(User.email == "victim@example.com")
    assert accounts.linked_user("support_bot", TG_ID, TG_ID) == victim
    signup.request_reset(first, "victim@example.com", "https://help.example/reset/{}".format)
    token = Notification.get(Notification.type_id == "password_reset").params["link"].rsplit("/", 1)[1]
    signup.reset_password(first, token, "another long secret", "ru")
    assert accounts.linked_user("support_bot", TG_ID, TG_ID) is None
    assert User.get_by_id(victim.id).telegram_id is None
    assert bot_customer(first).id != victim.id  # the signer's Telegram gets a fresh account of its own


def test_claims_need_the_policy(rt):
    tg = telegram_first.customer_for(rt, "support_bot", TG_ID, TG_ID, None, "", "ru")  # made while it was on
    code = telegram_first.issue_claim_code(rt, tg)
    web = accounts.create_user("anna@example.com", PASSWORD)
    with pytest.raises(ValidationFailed):
        telegram_first.claim(rt, code, web, "ru")


# --- sign-in links ----------------------------------------------------------------------------


def magic_links() -> list[str]:
    return [n.params["link"] for n in Notification.select().where(Notification.type_id == "sign_in_link")]


def test_a_sign_in_link_is_emailed_to_existing_accounts_only_and_works_once(rt):
    user = accounts.create_user("anna@example.com", PASSWORD, verified=False)
    signup.request_sign_in_link(rt, "nobody@example.com", LINK.format)
    assert magic_links() == []
    signup.request_sign_in_link(rt, " ANNA@example.com", LINK.format)
    [link] = magic_links()
    token = link.rsplit("/", 1)[1]
    assert account_tokens.peek(token, "magic") == user
    assert signup.sign_in_with_link(rt, token) == user
    assert User.get_by_id(user.id).email_verified_at is not None  # the mailbox is proven
    assert signup.sign_in_with_link(rt, token) is None  # single use
    signup.request_sign_in_link(rt, "anna@example.com", LINK.format)
    expired = magic_links()[-1].rsplit("/", 1)[1]
    AccountToken.update(expires_at=accounts.utcnow() - timedelta(seconds=1)).execute()
    assert signup.sign_in_with_link(rt, expired) is None
    User.update(is_active=False).execute()
    signup.request_sign_in_link(rt, "anna@example.com", LINK.format)
    assert len(magic_links()) == 2  # a deactivated account gets nothing


def test_sign_in_links_need_the_policy(rt):
    set_signup(rt, magic_link=False)
    with pytest.raises(PermissionError):
        signup.request_sign_in_link(rt, "anna@example.com", LINK.format)


def test_nothing_is_emailed_to_a_placeholder_address(first):
    tg = bot_customer(first)
    signup.request_reset(first, tg.email, LINK.format)
    signup.request_sign_in_link(first, tg.email, LINK.format)
    assert Notification.select().count() == 0 and AccountToken.select().count() == 0
    with pytest.raises(ValidationFailed) as refused:
        signup.sign_up(first, "someone@telegram.invalid", PASSWORD, "x", "ru", LINK.format, FORGOT)
    assert "email" in refused.value.errors

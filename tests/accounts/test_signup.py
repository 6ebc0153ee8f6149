"""engine.signup and engine.account_tokens: each policy mode, duplicates and races, tokens, password reset."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engine import account_tokens, accounts, sessions, signup
from engine.catalog import ConfigErrors, load_catalog
from engine.delivery import build_outgoing
from engine.errors import ValidationFailed
from engine.store.models import AccountToken, Delivery, Notification, User, WebSession
from tests.accounts.conftest import FORGOT, LINK, set_signup

pytestmark = pytest.mark.postgres  # the unique email, the savepoint and the conditional UPDATEs: run on both databases
PASSWORD = "long enough secret"


def sign_up(rt, email, password=PASSWORD, name="Анна", locale="ru"):
    signup.sign_up(rt, email, password, name, locale, LINK.format, FORGOT)


def outbox(email=None):
    """(type, target, link) of every account email in the outbox."""
    rows = Delivery.select(Delivery, Notification).join(Notification).order_by(Delivery.id)
    return [(d.notification.type_id, d.target, d.notification.params["link"]) for d in rows
            if email is None or d.target == email]


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


def test_open_signup_creates_an_unverified_account_and_emails_its_link(rt):
    sign_up(rt, " Anna@Example.com ")
    user = User.get(User.email == "anna@example.com")
    assert user.email_verified_at is None and user.name == "Анна" and user.role == "customer"
    assert accounts.authenticate("anna@example.com", PASSWORD) == user  # an unverified account can sign in
    assert signup.needs_verification(rt, user)
    [(kind, target, link)] = outbox()
    assert (kind, target) == ("account_verify", "anna@example.com")
    token = token_of(link)
    assert AccountToken.get().token_hash != token and token not in AccountToken.get().token_hash  # hashed at rest
    assert signup.verify(rt, token) == user
    assert User.get_by_id(user.id).email_verified_at is not None
    assert not signup.needs_verification(rt, User.get_by_id(user.id))
    assert signup.verify(rt, token) is None  # single use


def test_the_email_is_in_the_account_language_and_goes_to_its_own_address_only(rt):
    sign_up(rt, "ann@example.com", locale="en")
    User.update(notify_emails=["team@example.com"]).execute()
    sign_up(rt, "ann@example.com", locale="en")  # the duplicate's email too: only the account's own address
    rows = list(Delivery.select().order_by(Delivery.id))
    assert [r.target for r in rows] == ["ann@example.com", "ann@example.com"]
    verify, exists = (build_outgoing(rt.catalog, row, "https://help.example") for row in rows)
    assert verify.subject == "Confirm your email address" and LINK.format("") in verify.text
    assert exists.subject == "You already have an account" and FORGOT in exists.text
    User.update(locale="ru").execute()
    assert build_outgoing(rt.catalog, rows[0], "https://help.example").subject == "Подтвердите адрес электронной почты"


def test_a_duplicate_gets_the_same_answer_and_an_email_saying_so(rt):
    existing = accounts.create_user("anna@example.com", "old password 123", name="Анна")
    sign_up(rt, "ANNA@example.com", name="Someone else")  # no exception: the page says "check your email"
    assert User.select().count() == 1
    assert User.get_by_id(existing.id).name == "Анна"
    assert accounts.authenticate("anna@example.com", "old password 123") is not None  # the password did not change
    assert outbox() == [("account_exists", "anna@example.com", FORGOT)]
    assert AccountToken.select().count() == 0


def test_racing_sign_ups_give_one_account(rt):
    threads, errors = 8, []
    barrier = threading.Barrier(threads)

    def worker():
        try:
            barrier.wait()
            sign_up(rt, "race@example.com")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            rt.db.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    assert User.select().where(User.email == "race@example.com").count() == 1
    kinds = sorted(kind for kind, _, _ in outbox())
    assert kinds == ["account_exists"] * (threads - 1) + ["account_verify"]


def test_domains_mode_admits_listed_domains_only(rt):
    set_signup(rt, mode="domains", domains=["client.ru"])
    sign_up(rt, "ivan@client.ru")
    with pytest.raises(ValidationFailed) as refused:
        sign_up(rt, "ivan@sub.client.ru")
    assert "email" in refused.value.errors
    with pytest.raises(ValidationFailed):
        sign_up(rt, "eve@gmail.com")
    assert [u.email for u in User.select()] == ["ivan@client.ru"]


@pytest.mark.parametrize("mode", ["invite", "closed"])
def test_invite_and_closed_modes_have_no_public_sign_up(rt, mode):
    set_signup(rt, mode=mode)
    assert not signup.signup_open(rt)
    with pytest.raises(PermissionError):
        sign_up(rt, "anna@example.com")
    assert User.select().count() == 0 and outbox() == []


def test_without_required_verification_the_account_is_ready_at_once(rt):
    set_signup(rt, require_verification=False)
    sign_up(rt, "anna@example.com")
    assert not signup.needs_verification(rt, User.get())
    assert outbox() == []


@pytest.mark.parametrize("email, password, field", [
    ("not-an-email", PASSWORD, "email"),
    ("anna@example.com", "short", "password"),
    ("anna@example.com", "x" * 300, "password"),
    ("annabelle@example.com", "my annabelle pass", "password"),
    ("anna@example.com", "Q1W2E3R4T5", "password"),  # leaked: on the common-passwords list, whatever the case
])
def test_bad_input_is_refused_with_the_field_named(rt, email, password, field):
    with pytest.raises(ValidationFailed) as refused:
        sign_up(rt, email, password)
    assert list(refused.value.errors) == [field]
    assert User.select().count() == 0


def test_a_leaked_password_is_refused_in_plain_words_unless_the_policy_allows_it(rt, config_dir):
    with pytest.raises(ValidationFailed) as refused:
        sign_up(rt, "anna@example.com", "qwertyuiop")
    assert refused.value.errors == {"password": "Этот пароль есть в списках утёкших паролей, его легко подобрать. "
                                                "Выберите другой."}
    policies = config_dir / "policies.yaml"
    policies.write_text(policies.read_text().replace("passwords: {min_length: 10", "passwords: {not_common: false, min_length: 10"))
    assert rt.catalogs.reload()
    sign_up(rt, "anna@example.com", "qwertyuiop")
    assert User.select().count() == 1


def test_domains_mode_without_domains_and_open_mode_without_account_emails_are_config_errors(rt, config_dir):
    policies = config_dir / "policies.yaml"
    policies.write_text(policies.read_text().replace("signup: {mode: open", "signup: {mode: domains"))
    with pytest.raises(ConfigErrors) as no_domains:
        load_catalog(config_dir)
    assert "domains" in str(no_domains.value) and "policies.yaml" in str(no_domains.value)
    policies.write_text(policies.read_text().replace("signup: {mode: domains", "signup: {mode: open"))
    types = config_dir / "notifications" / "types.yaml"
    types.write_text(types.read_text().replace("password_reset:", "password_reminder:"))
    with pytest.raises(ConfigErrors) as no_type:
        load_catalog(config_dir)
    assert "password_reset" in str(no_type.value) and "signup.mode" in str(no_type.value)


def test_tokens_expire_and_forged_or_other_purpose_ones_fail(rt):
    user = accounts.create_user("anna@example.com", PASSWORD)
    past = accounts.utcnow() - timedelta(days=3)
    expired = account_tokens.issue(user, "verify", "2d", now=past)
    assert account_tokens.consume(expired, "verify") is None
    reset = account_tokens.issue(user, "reset", "30m")
    assert account_tokens.consume(reset, "verify") is None  # a reset link does not verify
    assert account_tokens.consume(reset + "x", "reset") is None
    assert account_tokens.consume("", "reset") is None and account_tokens.consume("a" * 500, "reset") is None
    assert account_tokens.consume(reset, "reset") == user


def test_password_reset_ends_every_session_and_works_once(rt):
    user = accounts.create_user("anna@example.com", "old password 123")
    old_session = sessions.start_session(user)
    signup.request_reset(rt, "nobody@example.com", LINK.format)
    assert outbox() == []  # unknown address: nothing happens, and the caller answers the same
    signup.request_reset(rt, "Anna@example.com", LINK.format)
    signup.request_reset(rt, "anna@example.com", LINK.format)
    (_, _, first), (kind, target, second) = outbox()
    assert (kind, target) == ("password_reset", "anna@example.com")
    with pytest.raises(ValidationFailed):
        signup.reset_password(rt, token_of(second), "short", "ru")
    assert signup.reset_password(rt, token_of(second), "brand new secret", "ru") == user  # still usable after a refusal
    assert accounts.authenticate("anna@example.com", "brand new secret") == user
    assert WebSession.select().count() == 0 and sessions.session_user(old_session, rt.catalog.policies.sessions) is None
    assert signup.reset_password(rt, token_of(second), "another new secret", "ru") is None  # used
    assert signup.reset_password(rt, token_of(first), "another new secret", "ru") is None  # older links die with it


def test_account_emails_are_not_in_the_notification_settings(rt):
    from engine.notify import preferences
    user = accounts.create_user("anna@example.com", PASSWORD)
    assert not {"account_verify", "account_exists", "password_reset"} & set(preferences(rt.catalog, user))

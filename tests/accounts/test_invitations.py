"""engine.invitations: each sign-up mode, one-time hashed links (reuse, replacement, expiry), refusals, rate limits,
inviting the customer of a ticket that came without a web account."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml

from engine import accounts, invitations, signup
from engine.catalog import ConfigErrors, load_catalog
from engine.delivery import build_outgoing
from engine.errors import InvalidValue, PermissionDenied, ValidationFailed
from engine.store.models import AccountToken, AuditLog, Delivery, Notification, User
from tests.accounts.conftest import set_signup
from tests.web.helpers import make_ticket

pytestmark = pytest.mark.postgres
PASSWORD = "long enough secret"
LINK = "https://help.example/invite/{}"
CLI = "cli:root@host"


@pytest.fixture
def agent(rt):
    return accounts.create_user("agent@example.com", PASSWORD, role="agent", name="Агент Смит")


def invite(rt, email, actor, **kwargs):
    return invitations.invite(rt, email, actor, LINK.format, **kwargs)


def invite_links(email=None) -> list[str]:
    """The tokens of the invitation emails in the outbox, oldest first."""
    rows = (Notification.select(Notification, Delivery).join(Delivery)
            .where(Notification.type_id == "account_invite").order_by(Notification.id))
    return [n.params["link"].rsplit("/", 1)[1] for n in rows if email is None or n.deliveries[0].target == email]


def actions() -> list[str]:
    return [row.action for row in AuditLog.select().where(AuditLog.action != "config_reload").order_by(AuditLog.id)]


def test_an_invitation_makes_a_passwordless_customer_whose_link_sets_the_password_once(rt, agent):
    user = invite(rt, " Vera@Example.com ", agent, name="Вера")
    assert (user.email, user.role, user.password_hash, user.email_verified_at) == ("vera@example.com", "customer", "", None)
    assert invitations.pending(user) and invitations.invited_ids([user.id]) == {user.id}
    [token] = invite_links("vera@example.com")
    assert token not in AccountToken.get().token_hash  # only the hash is stored
    email = build_outgoing(rt.catalog, Delivery.get(), "https://help.example")
    assert email.subject == "Приглашение в службу поддержки" and "Агент Смит приглашает" in email.text
    assert LINK.format(token) in email.text

    accepted = invitations.accept(rt, token, PASSWORD, "", "en")
    assert accepted.id == user.id and accepted.email_verified_at is not None and accepted.locale == "en"
    assert accepted.name == "Вера"  # the name given by staff stays
    assert accounts.authenticate("vera@example.com", PASSWORD) is not None
    assert not invitations.pending(accepted)
    assert invitations.accept(rt, token, "another long secret", "", "ru") is None  # single use
    assert accounts.authenticate("vera@example.com", PASSWORD) is not None
    rows = list(AuditLog.select().order_by(AuditLog.id))
    assert [(r.action, r.actor_id, r.detail["email"]) for r in rows] == [
        ("invite", agent.id, "vera@example.com"), ("invite_accepted", user.id, "vera@example.com")]


@pytest.mark.parametrize("mode", ["open", "domains", "invite"])
def test_staff_invite_in_every_mode_but_closed(rt, agent, mode):
    set_signup(rt, mode=mode, domains=["client.ru"])
    user = invite(rt, "eve@gmail.com", agent)  # staff decide: the domains list limits self sign-up only
    assert invitations.accept(rt, invite_links()[0], PASSWORD, "Ева", "ru").id == user.id
    assert signup.signup_open(rt) == (mode != "invite")


def test_invite_mode_admits_only_invited_addresses(rt, agent):
    set_signup(rt, mode="invite")
    with pytest.raises(PermissionError):
        signup.sign_up(rt, "stranger@example.com", PASSWORD, "", "ru", LINK.format, "https://help.example/forgot")
    invite(rt, "guest@example.com", agent)
    assert [u.email for u in User.select().where(User.role == "customer")] == ["guest@example.com"]


def test_closed_mode_refuses_invitations(rt, agent):
    set_signup(rt, mode="closed")
    with pytest.raises(InvalidValue) as refused:
        invite(rt, "guest@example.com", agent)
    assert refused.value.key == "invite_closed"
    assert User.select().count() == 1 and Notification.select().count() == 0


def test_invite_mode_needs_the_invitation_email_in_the_config(rt):
    types = rt.settings.config_dir / "notifications" / "types.yaml"
    data = yaml.safe_load(types.read_text(encoding="utf-8"))
    del data["types"]["account_invite"]
    types.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    policies = rt.settings.config_dir / "policies.yaml"
    policies.write_text(policies.read_text(encoding="utf-8").replace("mode: open", "mode: invite"), encoding="utf-8")
    with pytest.raises(ConfigErrors) as errors:
        load_catalog(rt.settings.config_dir)
    assert any("account_invite" in str(e) and e.path == "policies.signup.mode" for e in errors.value.errors)


def test_a_resent_invitation_replaces_the_link_before_it(rt, agent):
    user = invite(rt, "vera@example.com", agent)
    invitations.resend(rt, user, agent, LINK.format)
    first, second = invite_links()
    assert invitations.accept(rt, first, PASSWORD, "", "ru") is None
    assert invitations.accept(rt, second, PASSWORD, "", "ru").id == user.id
    assert actions() == ["invite", "invite_resend", "invite_accepted"]
    with pytest.raises(InvalidValue) as refused:
        invitations.resend(rt, user, agent, LINK.format)
    assert refused.value.key == "invite_has_account"


def test_an_expired_link_is_refused_and_a_refused_password_keeps_it(rt, agent):
    invite(rt, "vera@example.com", agent)
    [token] = invite_links()
    later = datetime.now(timezone.utc) + timedelta(days=7, minutes=1)  # policies.signup.invitation_ttl: 7d
    assert invitations.accept(rt, token, PASSWORD, "", "ru", now=later) is None
    with pytest.raises(ValidationFailed) as weak:
        invitations.accept(rt, token, "short", "", "ru")
    assert "password" in weak.value.errors
    assert invitations.accept(rt, token, PASSWORD, "", "ru") is not None


def test_addresses_with_an_account_or_a_deactivated_one_are_not_invited(rt, agent):
    accounts.create_user("anna@example.com", PASSWORD)
    off = accounts.create_user("off@example.com", None)
    User.update(is_active=False).where(User.id == off.id).execute()
    for email, key in (("ANNA@example.com", "invite_has_account"), ("off@example.com", "invite_deactivated"),
                       ("not an address", "not_email"), ("tg5@telegram.invalid", "not_email")):
        with pytest.raises(InvalidValue) as refused:
            invite(rt, email, agent)
        assert refused.value.key == key
    assert Notification.select().count() == 0


def test_a_deactivated_invitee_cannot_use_the_link(rt, agent):
    user = invite(rt, "vera@example.com", agent)
    User.update(is_active=False).where(User.id == user.id).execute()
    assert invitations.accept(rt, invite_links()[0], PASSWORD, "", "ru") is None


def test_customers_do_not_invite(rt):
    customer = accounts.create_user("anna@example.com", PASSWORD)
    with pytest.raises(PermissionDenied):
        invite(rt, "friend@example.com", customer)


def test_invitations_are_limited_per_address_and_per_inviter(rt, agent):
    set_signup(rt, invitations_per_address=2, invitations_per_hour=3)
    invite(rt, "vera@example.com", agent)
    invite(rt, "vera@example.com", agent)
    with pytest.raises(InvalidValue) as refused:
        invite(rt, "vera@example.com", agent)  # the address's third in the hour
    assert refused.value.key == "invite_rate_limited"
    with pytest.raises(InvalidValue):
        invite(rt, "ivan@example.com", agent)  # the agent's fourth
    invite(rt, "ivan@example.com", CLI)  # a shell user is not counted per inviter
    assert len(invite_links()) == 3 and actions() == ["invite", "invite_resend", "invite"]


def test_a_cli_invitation_names_the_service_and_audits_the_shell_user(rt):
    invite(rt, "vera@example.com", CLI)
    assert Notification.get().params["inviter"] == "Служба поддержки"
    row = AuditLog.get()
    assert row.actor is None and row.detail["by"] == CLI and row.detail["email"] == "vera@example.com"


def test_the_customer_of_a_ticket_without_a_web_account_is_invited_at_a_given_address(rt, agent):
    customer = accounts.create_user("tg-5550001@telegram.invalid", None, verified=False)
    ticket = make_ticket(rt, customer)
    accounts.create_user("taken@example.com", PASSWORD)
    with pytest.raises(InvalidValue) as refused:
        invitations.invite_ticket_customer(rt, ticket, "taken@example.com", agent, LINK.format)
    assert refused.value.key == "email_taken"

    invitations.invite_ticket_customer(rt, ticket, "Real@Example.com", agent, LINK.format)
    assert User.get_by_id(customer.id).email == "real@example.com"
    assert Delivery.select().where(Delivery.target == "real@example.com").count() == 1
    assert AuditLog.get(AuditLog.action == "invite").detail["ticket"] == ticket.number
    assert invitations.accept(rt, invite_links()[0], PASSWORD, "Пётр", "ru").id == customer.id
    with pytest.raises(InvalidValue) as again:
        invitations.invite_ticket_customer(rt, ticket, "other@example.com", agent, LINK.format)
    assert again.value.key == "invite_has_account"

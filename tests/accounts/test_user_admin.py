"""engine.user_admin: the users list, role changes and the last admin, deactivation ending sessions, reset links,
and the audit rows every change writes."""
from __future__ import annotations

import threading

import pytest

from engine import accounts, customer_data, sessions, user_admin
from engine.catalog.schema import SessionPolicy
from engine.errors import InvalidValue, PermissionDenied
from engine.store.models import AuditLog, Delivery, Notification, TelegramLink, User, WebSession

pytestmark = pytest.mark.postgres  # the admins' row locks: run on both databases
PASSWORD = "long enough secret"
LINK = "https://help.example/reset/{}"
CLI = "cli:root@host"


@pytest.fixture
def people(rt):
    return {role: accounts.create_user(f"{role}@example.com", PASSWORD, role=role, name=role.title())
            for role in ("customer", "agent", "admin")}


def refused_key(action) -> str:
    with pytest.raises(InvalidValue) as refused:
        action()
    return refused.value.key


def changes() -> list[tuple]:
    """(action, actor id, by, email) of the account audit rows, oldest first."""
    rows = AuditLog.select().where(AuditLog.action != "config_reload").order_by(AuditLog.id)
    return [(r.action, r.actor_id, r.detail.get("by"), r.detail["email"]) for r in rows]


def test_the_last_admin_keeps_the_role_and_stays_active(rt, people):
    admin = people["admin"]
    assert refused_key(lambda: user_admin.set_role(rt, CLI, admin, "agent")) == "last_admin"
    assert refused_key(lambda: user_admin.deactivate(rt, CLI, admin)) == "last_admin"
    second = accounts.create_user("second@example.com", PASSWORD, role="admin")
    User.update(is_active=False).where(User.id == second.id).execute()
    assert refused_key(lambda: user_admin.set_role(rt, CLI, admin, "agent")) == "last_admin"  # a deactivated one does not count
    user_admin.reactivate(rt, CLI, User.get_by_id(second.id))
    user_admin.set_role(rt, CLI, admin, "agent")
    assert User.get_by_id(admin.id).role == "agent"
    assert changes() == [("user_reactivate", None, CLI, "second@example.com"), ("user_role", None, CLI, "admin@example.com")]
    detail = AuditLog.get(AuditLog.action == "user_role").detail
    assert (detail["old"], detail["new"]) == ("admin", "agent")


def test_an_admin_neither_demotes_nor_deactivates_themselves(rt, people):
    admin = people["admin"]
    accounts.create_user("second@example.com", PASSWORD, role="admin")
    assert refused_key(lambda: user_admin.set_role(rt, admin, admin, "customer")) == "own_role"
    assert refused_key(lambda: user_admin.deactivate(rt, admin, admin)) == "own_deactivation"
    user_admin.set_role(rt, admin, people["agent"], "admin")
    row = AuditLog.get(AuditLog.action == "user_role")
    assert row.actor_id == admin.id and row.detail["user_id"] == people["agent"].id and row.at is not None


def test_agents_change_no_roles_and_deactivate_nobody(rt, people):
    agent, customer = people["agent"], people["customer"]
    with pytest.raises(PermissionDenied):
        user_admin.set_role(rt, agent, customer, "agent")
    with pytest.raises(PermissionDenied):
        user_admin.deactivate(rt, agent, customer)
    with pytest.raises(PermissionDenied):
        user_admin.send_reset_link(rt, agent, people["admin"], LINK.format)
    assert refused_key(lambda: user_admin.set_role(rt, people["admin"], customer, "root")) == "role_unknown"
    assert User.get_by_id(customer.id).role == "customer" and changes() == []


def test_deactivation_ends_every_session_and_blocks_sign_in(rt, people):
    customer = people["customer"]
    tokens = [sessions.start_session(customer) for _ in range(2)]
    user_admin.deactivate(rt, people["admin"], customer)
    assert WebSession.select().where(WebSession.user == customer).count() == 0
    assert all(sessions.session_user(t, SessionPolicy()) is None for t in tokens)
    assert accounts.authenticate(customer.email, PASSWORD) is None
    assert accounts.check_credentials(customer.email, PASSWORD).is_active is False  # sign-in can say why
    assert accounts.check_credentials(customer.email, "wrong password") is None
    assert AuditLog.get(AuditLog.action == "user_deactivate").detail["sessions_ended"] == 2

    user_admin.reactivate(rt, people["admin"], User.get_by_id(customer.id))
    assert accounts.authenticate(customer.email, PASSWORD) is not None
    assert [a for a, *_ in changes()] == ["user_deactivate", "user_reactivate"]


def test_two_admins_demoting_each_other_at_once_leave_one_admin(rt, people):
    first, second = people["admin"], accounts.create_user("second@example.com", PASSWORD, role="admin")
    barrier, outcomes = threading.Barrier(2), []

    def demote(actor_id, target_id):
        actor, target = User.get_by_id(actor_id), User.get_by_id(target_id)  # each request loads its own rows
        try:
            barrier.wait()
            user_admin.set_role(rt, actor, target, "agent")
            outcomes.append("done")
        except InvalidValue as exc:
            outcomes.append(exc.key)
        finally:
            rt.db.close()

    threads = [threading.Thread(target=demote, args=pair) for pair in ((first.id, second.id), (second.id, first.id))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["done", "last_admin"]
    assert User.select().where(User.role == "admin").count() == 1


def test_a_reset_link_goes_to_the_account_and_is_audited(rt, people):
    user_admin.send_reset_link(rt, people["agent"], people["customer"], LINK.format)
    [delivery] = Delivery.select()
    assert delivery.target == "customer@example.com" and Notification.get().type_id == "password_reset"
    assert changes() == [("user_reset_link", people["agent"].id, None, "customer@example.com")]
    telegram_only = accounts.create_user("tg5550001@telegram.invalid", None, verified=False)
    assert refused_key(lambda: user_admin.send_reset_link(rt, people["admin"], telegram_only, LINK.format)) == "user_no_email"


def test_the_list_searches_filters_and_pages_with_a_total(rt, people):
    for n in range(5):
        accounts.create_user(f"client{n}@example.com", None, name=f"Клиент {n}")
    page = user_admin.user_page(size=3)
    assert page.total == 8 and [u.email for u in page.rows] == ["admin@example.com", "agent@example.com", "client0@example.com"]
    second = user_admin.user_page(size=3, after=page.next)
    assert second.first == 4 and [u.email for u in second.rows] == ["client1@example.com", "client2@example.com", "client3@example.com"]
    assert [u.email for u in user_admin.user_page(size=3, before=second.previous).rows] == [u.email for u in page.rows]
    assert user_admin.user_page("CLIENT").total == 5
    assert [u.email for u in user_admin.user_page("Клиент 3").rows] == ["client3@example.com"]
    assert [u.email for u in user_admin.user_page(role="agent").rows] == ["agent@example.com"]
    assert user_admin.user_page("100%_").total == 0  # wildcards are searched as text


def test_history_and_telegram_links_of_one_account(rt, people):
    customer = people["customer"]
    for n in range(10):  # ids 4..13: "user_id": 1 must not match "user_id": 10..13
        accounts.create_user(f"u{n}@example.com", None)
    user_admin.deactivate(rt, people["admin"], User.get(User.email == "u9@example.com"))
    user_admin.deactivate(rt, people["admin"], customer)
    assert [row.detail["email"] for row in user_admin.history(customer)] == ["customer@example.com"]
    TelegramLink.create(user=customer, binding="support_bot", chat_id=5, tg_user_id=5, active=False)
    TelegramLink.create(user=customer, binding="notify_bot", chat_id=6, tg_user_id=5)
    assert [link.binding for link in user_admin.telegram_links(customer)] == ["notify_bot", "support_bot"]


def test_erasing_a_customer_drops_the_address_from_the_account_audit_rows(rt, people):
    customer = people["customer"]
    user_admin.deactivate(rt, people["admin"], customer)
    user_admin.reactivate(rt, people["admin"], User.get_by_id(customer.id))
    customer_data.erase_customer(rt, User.get_by_id(customer.id), actor=people["admin"], by="admin@example.com")
    rows = user_admin.history(customer)
    assert [r.action for r in rows] == ["customer_erase", "user_reactivate", "user_deactivate"]
    assert all("email" not in r.detail for r in rows) and "customer@example.com" not in str([r.detail for r in rows])

"""/admin/users and /invite/<token>: roles enforced, CSRF on every form, invitations accepted, deactivation and its
sign-in message, no admin demoting themselves, inviting a ticket's customer from the agent page."""
from __future__ import annotations

import re

import pytest

from engine import accounts
from engine.store.models import AuditLog, Notification, User
from tests.accounts.conftest import set_signup
from tests.web.conftest import PASSWORD, WebClient
from tests.web.helpers import make_ticket

NEW_PASSWORD = "a brand new secret"


def invite_link() -> str:
    """The newest invitation's link as a relative URL."""
    notification = Notification.select().where(Notification.type_id == "account_invite").order_by(Notification.id.desc()).get()
    return re.sub(r"^https?://[^/]+", "", notification.params["link"])


def user_url(user) -> str:
    return f"/admin/users/{user.id}"


def test_staff_see_the_list_customers_do_not(app, as_role, web, users):
    assert web.get("/admin/users").status_code == 302  # to the sign-in page
    assert as_role("customer").get("/admin/users").status_code == 404
    page = as_role("agent").get("/admin/users?q=ANNA").get_data(as_text=True)
    assert "anna@example.com" in page and "boris@example.com" not in page
    admin = as_role("admin")
    listed = admin.get("/admin/users?role=admin").get_data(as_text=True)
    assert "admin@example.com" in listed and "anna@example.com" not in listed
    assert admin.get("/admin/users?role=root").status_code == 400
    assert admin.get(user_url(users["customer"])).status_code == 200
    assert admin.get("/admin/users/999999").status_code == 404


def test_the_list_pages_by_keyset_with_a_total(app, as_role, users):
    for n in range(51):
        accounts.create_user(f"zz{n:02}@example.com", None)
    admin = as_role("admin")
    first = admin.get("/admin/users").get_data(as_text=True)
    assert "1–50" in first and "55" in first
    after = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = admin.get(after).get_data(as_text=True)
    assert "zz50@example.com" in second and "zz00@example.com" not in second


def test_every_form_needs_its_csrf_token(app, as_role, users):
    admin, target = as_role("admin"), users["customer"]
    for url, data in (("/admin/users/invite", {"email": "x@example.com"}), (f"{user_url(target)}/role", {"role": "agent"}),
                      (f"{user_url(target)}/deactivate", {}), (f"{user_url(target)}/reactivate", {}),
                      (f"{user_url(target)}/resend", {}), (f"{user_url(target)}/reset", {})):
        assert admin.post(url, data, csrf=False).status_code == 400, url
    assert User.get_by_id(target.id).role == "customer" and User.get_by_id(target.id).is_active
    assert Notification.select().count() == 0 and AuditLog.select().where(AuditLog.action != "config_reload").count() == 0


def test_agents_invite_and_send_reset_links_but_change_no_roles(app, as_role, users):
    agent, customer = as_role("agent"), users["customer"]
    assert agent.post(f"{user_url(customer)}/role", {"role": "admin"}).status_code == 404
    assert agent.post(f"{user_url(customer)}/deactivate").status_code == 404
    assert agent.post(f"{user_url(users['admin'])}/reset").status_code == 404
    assert "user-role" not in agent.get(user_url(customer)).get_data(as_text=True)
    assert User.get_by_id(customer.id).role == "customer" and User.get_by_id(customer.id).is_active
    assert agent.post(f"{user_url(customer)}/reset").status_code == 303
    assert agent.post("/admin/users/invite", {"email": "new@example.com"}).status_code == 303
    assert [n.type_id for n in Notification.select().order_by(Notification.id)] == ["password_reset", "account_invite"]


def test_an_admin_changes_roles_but_not_their_own(app, as_role, users):
    admin = as_role("admin")
    response = admin.post(f"{user_url(users['agent'])}/role", {"role": "admin"})
    assert response.status_code == 303 and User.get_by_id(users["agent"].id).role == "admin"
    assert "done=role" in response.headers["Location"]
    own = admin.post(f"{user_url(users['admin'])}/role", {"role": "customer"})
    assert own.status_code == 409 and "Нельзя сменить роль самому себе" in own.get_data(as_text=True)
    own = admin.post(f"{user_url(users['admin'])}/deactivate")  # on the web, the last admin is always oneself
    assert own.status_code == 409 and "Нельзя отключить самого себя" in own.get_data(as_text=True)
    history = admin.get(user_url(users["agent"])).get_data(as_text=True)
    assert "Роль: Агент → Администратор" in history and "admin@example.com" in history
    customer = admin.get(user_url(users["customer"])).get_data(as_text=True)
    assert f'href="/admin/users/{users["customer"].id}/data"' in customer  # export and erase live there


def test_a_deactivated_account_is_signed_out_and_told_why_at_sign_in(app, as_role, users):
    customer = as_role("customer")
    assert customer.get("/").status_code == 200
    assert as_role("admin").post(f"{user_url(users['customer'])}/deactivate").status_code == 303
    assert customer.get("/").status_code == 302  # the session ended
    again = WebClient(app.test_client())
    refused = again.login(users["customer"].email)
    assert refused.status_code == 403 and "Учётная запись отключена" in refused.get_data(as_text=True)
    wrong = again.login(users["customer"].email, "wrong password")
    assert wrong.status_code == 401 and "отключена" not in wrong.get_data(as_text=True)  # told only with the password
    assert as_role("admin").post(f"{user_url(users['customer'])}/reactivate").status_code == 303
    assert WebClient(app.test_client()).login(users["customer"].email).status_code == 303


@pytest.mark.parametrize("mode", ["open", "invite"])
def test_an_invited_customer_sets_a_password_and_is_signed_in(app, as_role, users, mode):
    set_signup(app.extensions["helpdesk_runtime"], mode=mode)
    admin = as_role("admin")
    response = admin.post("/admin/users/invite", {"email": "vera@example.com", "name": "Вера"})
    assert response.status_code == 303
    assert "vera@example.com" in admin.get(response.headers["Location"]).get_data(as_text=True)
    repeated = admin.post("/admin/users/invite", {"email": users["customer"].email})
    assert repeated.status_code == 422 and "уже есть учётная запись" in repeated.get_data(as_text=True)

    guest, link = WebClient(app.test_client()), invite_link()
    assert "vera@example.com" in guest.get(link).get_data(as_text=True)
    assert guest.post(link, {"password": "short"}).status_code == 422
    accepted = guest.post(link, {"password": NEW_PASSWORD})
    assert accepted.status_code == 303 and guest.get("/").status_code == 200  # signed in
    assert "verify-banner" not in guest.get("/").get_data(as_text=True)  # the address is confirmed
    assert WebClient(app.test_client()).get(link).status_code == 404  # used
    assert accounts.authenticate("vera@example.com", NEW_PASSWORD) is not None


def test_resending_an_invitation_replaces_the_link(app, as_role):
    admin = as_role("admin")
    admin.post("/admin/users/invite", {"email": "vera@example.com"})
    first, vera = invite_link(), User.get(User.email == "vera@example.com")
    assert "Отправить приглашение снова" in admin.get(user_url(vera)).get_data(as_text=True)
    assert admin.post(f"{user_url(vera)}/resend").status_code == 303
    assert WebClient(app.test_client()).get(first).status_code == 404
    assert WebClient(app.test_client()).get(invite_link()).status_code == 200


def test_the_agent_invites_the_customer_of_a_ticket_without_a_web_account(app, as_role, users):
    rt = app.extensions["helpdesk_runtime"]
    telegram_only = accounts.create_user("tg-777@telegram.invalid", None, verified=False)
    ticket = make_ticket(rt, telegram_only)
    agent = as_role("agent")
    page = agent.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert 'id="ticket-invite"' in page
    taken = agent.post(f"/agent/tickets/{ticket.number}/invite", {"email": users["customer"].email})
    assert taken.status_code == 422 and "уже зарегистрирован" in taken.get_data(as_text=True)
    sent = agent.post(f"/agent/tickets/{ticket.number}/invite", {"email": "petr@example.com"})
    assert sent.status_code == 303 and User.get_by_id(telegram_only.id).email == "petr@example.com"
    assert WebClient(app.test_client()).post(invite_link(), {"password": NEW_PASSWORD}).status_code == 303
    assert 'id="ticket-invite"' not in agent.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    regular = make_ticket(rt, users["customer"])
    assert 'id="ticket-invite"' not in agent.get(f"/agent/tickets/{regular.number}").get_data(as_text=True)


def test_closed_mode_offers_no_invitation_and_refuses_one(app, as_role):
    set_signup(app.extensions["helpdesk_runtime"], mode="closed")
    admin = as_role("admin")
    assert 'id="invite"' not in admin.get("/admin/users").get_data(as_text=True)
    refused = admin.post("/admin/users/invite", {"email": "vera@example.com"})
    assert refused.status_code == 422 and "Приглашения выключены" in refused.get_data(as_text=True)
    assert User.select().where(User.email == "vera@example.com").count() == 0

"""Sign-up, verification, forgotten password and reset pages: modes, CSRF, floods, no enumeration, `next`, sessions."""
from __future__ import annotations

import re

import pytest

from engine import accounts
from engine.store.models import Delivery, Notification, Ticket, User
from tests.accounts.conftest import set_signup
from tests.web.conftest import CSRF_RE, PASSWORD, WebClient
from tests.web.helpers import TOPIC_URL, chat_problem

NEW_PASSWORD = "a brand new secret"


def links(type_id: str) -> list[str]:
    """The links of the account emails of `type_id` in the outbox, oldest first (as relative URLs)."""
    query = Notification.select().where(Notification.type_id == type_id).order_by(Notification.id)
    return [re.sub(r"^https?://[^/]+", "", n.params["link"]) for n in query]


def page_text(response) -> str:
    """The page without its per-session CSRF token, to compare two answers."""
    text = response.get_data(as_text=True)
    return text.replace(CSRF_RE.search(text).group(1), "")


def sign_up(client: WebClient, email: str, password: str = PASSWORD, **extra):
    return client.post("/signup", {"email": email, "password": password, "name": "Анна", **extra})


def test_open_sign_up_then_verify_then_create_a_ticket(app, web):
    assert "/signup" in web.get("/login").get_data(as_text=True)
    assert sign_up(web, "new@example.com").status_code == 200
    assert web.login("new@example.com").status_code == 303  # an unverified account signs in
    home = web.get("/").get_data(as_text=True)
    assert "verify-banner" in home
    refused = web.post(TOPIC_URL, chat_problem())
    assert refused.status_code == 403 and Ticket.select().count() == 0
    assert web.get(TOPIC_URL).status_code == 403

    [link] = links("account_verify")
    assert web.get(link).status_code == 303  # signed in as its owner: straight on
    assert "verify-banner" not in web.get("/").get_data(as_text=True)
    assert web.post(TOPIC_URL, chat_problem()).status_code == 303
    assert Ticket.get().customer.email == "new@example.com"
    assert web.get(link).status_code == 404  # used


def test_existing_and_new_addresses_get_the_same_answer(app, users):
    first, second = WebClient(app.test_client()), WebClient(app.test_client())
    taken, free = sign_up(first, users["customer"].email), sign_up(second, "free@example.com")
    assert taken.status_code == free.status_code == 200
    assert page_text(taken) == page_text(free)
    assert [n.type_id for n in Notification.select().order_by(Notification.id)] == ["account_exists", "account_verify"]
    assert accounts.authenticate(users["customer"].email, PASSWORD) is not None  # the account did not change


@pytest.mark.parametrize("mode", ["invite", "closed"])
def test_no_sign_up_page_unless_the_policy_opens_it(rt, web, mode):
    set_signup(rt, mode=mode)
    page = web.get("/signup")
    assert page.status_code == 404 and "Регистрация закрыта" in page.get_data(as_text=True)
    assert sign_up(web, "new@example.com").status_code == 404
    assert "/signup" not in web.get("/login").get_data(as_text=True)
    assert User.select().count() == 0


def test_domains_mode_refuses_other_domains_with_a_clear_message(rt, web):
    set_signup(rt, mode="domains", domains=["client.ru"])
    refused = sign_up(web, "eve@gmail.com")
    assert refused.status_code == 422 and "организаций-клиентов" in refused.get_data(as_text=True)
    assert sign_up(web, "ivan@client.ru").status_code == 200
    assert [u.email for u in User.select()] == ["ivan@client.ru"]


def test_a_short_password_is_refused_on_the_form(web):
    refused = sign_up(web, "new@example.com", password="short")
    assert refused.status_code == 422 and "не меньше 10 символов" in refused.get_data(as_text=True)
    assert User.select().count() == 0


def test_every_form_needs_csrf(web, users):
    assert web.post("/signup", {"email": "x@example.com", "password": PASSWORD}, csrf=False).status_code == 400
    assert web.post("/forgot", {"email": users["customer"].email}, csrf=False).status_code == 400
    assert Delivery.select().count() == 0


def test_floods_get_429_per_address_and_per_ip(app, web, users):
    for _ in range(3):
        assert web.post("/forgot", {"email": users["customer"].email}).status_code == 200
    assert web.post("/forgot", {"email": users["customer"].email}).status_code == 429
    assert len(links("password_reset")) == 3
    app.config["ACCOUNT_EMAILS_PER_IP"] = 6  # 4 attempts so far, refused ones count too
    for n in range(2):
        assert web.post("/forgot", {"email": f"nobody{n}@example.com"}).status_code == 200
    assert web.post("/forgot", {"email": "nobody9@example.com"}).status_code == 429  # the seventh from this IP
    for _ in range(3):
        assert sign_up(web, "s@example.com").status_code == 200
    assert sign_up(web, "s@example.com").status_code == 429  # sign-up has its own windows


def test_resend_is_rate_limited(web):
    sign_up(web, "new@example.com")
    web.login("new@example.com")
    for _ in range(3):
        assert web.post("/verify/resend").status_code == 200
    assert web.post("/verify/resend").status_code == 429
    assert len(links("account_verify")) == 4


def test_forgot_answers_the_same_for_existing_and_unknown_addresses(app, users):
    first, second = WebClient(app.test_client()), WebClient(app.test_client())
    known = first.post("/forgot", {"email": users["customer"].email})
    unknown = second.post("/forgot", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200 and page_text(known) == page_text(unknown)
    assert len(links("password_reset")) == 1


def test_reset_ends_the_old_sessions_and_signs_in(app, web, as_role, users):
    old = as_role("customer")
    assert old.get("/").status_code == 200
    web.post("/forgot", {"email": users["customer"].email})
    [link] = links("password_reset")
    assert web.get(link).status_code == 200
    done = web.post(link, {"password": NEW_PASSWORD, "next": "https://evil.example/"})
    assert done.status_code == 303 and done.headers["Location"] == "/"  # `next` off-site is dropped
    web.token = None  # signed in: a new session with its own CSRF token
    assert web.get("/").status_code == 200
    assert old.get("/").status_code == 302  # the copied cookie of the old session is worthless
    assert accounts.authenticate(users["customer"].email, NEW_PASSWORD) is not None
    assert web.get(link).status_code == 404 and web.post(link, {"password": "yet another secret"}).status_code == 404


@pytest.mark.parametrize("token", ["forged-token", "x" * 300])
def test_forged_tokens_are_refused(web, token):
    assert web.get(f"/reset/{token}").status_code == 404
    assert web.post(f"/reset/{token}", {"password": NEW_PASSWORD}).status_code == 404
    assert web.get(f"/verify/{token}").status_code == 404


def test_next_survives_sign_up_only_when_it_is_local(web):
    sign_up(web, "local@example.com", next="/tickets")
    sign_up(web, "evil@example.com", next="https://evil.example/")
    local, evil = links("account_verify")
    assert local.endswith("?next=/tickets") and "next=" not in evil
    web.login("evil@example.com")
    crafted = web.get(evil + "?next=https://evil.example/")
    assert crafted.status_code == 303 and crafted.headers["Location"] == "/"

"""Sign-in links (no enumeration, equal time, single use, expiry, `next`, floods) and claiming a Telegram-first
account from the settings page and the sign-up page."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from engine import accounts, telegram_first, tickets
from engine.store.models import AccountToken, Notification, Ticket, User
from tests.accounts.conftest import set_signup
from tests.web.conftest import CSRF_RE, PASSWORD, WebClient
from tests.web.helpers import chat_problem

FLOOR = 0.15


@pytest.fixture
def app(app):
    app.config["SIGN_IN_LINK_FLOOR"] = FLOOR
    return app


def sign_in_links() -> list[str]:
    query = Notification.select().where(Notification.type_id == "sign_in_link").order_by(Notification.id)
    return [re.sub(r"^https?://[^/]+", "", n.params["link"]) for n in query]


def ask_link(client: WebClient, email: str, **extra):
    started = time.monotonic()
    response = client.post("/login/link", {"email": email, **extra})
    return response, time.monotonic() - started


def without_csrf(response) -> str:
    text = response.get_data(as_text=True)
    return text.replace(CSRF_RE.search(text).group(1), "")


def test_known_and_unknown_addresses_get_the_same_answer_in_the_same_time(app, users):
    assert "/login/link" in WebClient(app.test_client()).get("/login").get_data(as_text=True)
    known, known_took = ask_link(WebClient(app.test_client()), users["customer"].email)
    unknown, unknown_took = ask_link(WebClient(app.test_client()), "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert without_csrf(known) == without_csrf(unknown)
    assert known_took >= FLOOR and unknown_took >= FLOOR  # both padded to the floor: the time tells nothing
    assert len(sign_in_links()) == 1


def test_the_link_signs_in_once_after_a_press_and_honours_a_safe_next(app, users, web):
    ask_link(web, users["customer"].email, next="/tickets")
    [link] = sign_in_links()
    assert link.endswith("?next=/tickets")
    page = web.get(link)
    assert page.status_code == 200 and web.get("/settings").status_code == 302  # a GET (a mail scanner) signs nobody in
    token = link.split("?")[0].rsplit("/", 1)[1]
    signed_in = web.post(f"/login/link/{token}", {"next": "/tickets"})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/tickets"
    assert web.get("/settings").status_code == 200
    other = WebClient(app.test_client())
    assert other.get(link).status_code == 404  # used
    assert other.post(f"/login/link/{token}").status_code == 404


def test_an_unsafe_next_is_dropped_and_an_expired_link_refused(app, users, web):
    ask_link(web, users["customer"].email, next="//evil.example/x")
    [link] = sign_in_links()
    assert "evil" not in link
    token = link.rsplit("/", 1)[1]
    assert web.post(f"/login/link/{token}", {"next": "https://evil.example/"}).headers["Location"] == "/"
    ask_link(web, users["customer"].email)
    AccountToken.update(expires_at=accounts.utcnow() - timedelta(seconds=1)).execute()
    fresh = WebClient(app.test_client())
    assert fresh.post(f"/login/link/{sign_in_links()[-1].rsplit('/', 1)[1]}").status_code == 404


def test_link_floods_get_429_per_address_and_the_page_needs_the_policy(app, rt, users):
    app.config["SIGN_IN_LINK_FLOOR"] = 0
    client = WebClient(app.test_client())
    answers = [ask_link(client, users["customer"].email)[0].status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429] and len(sign_in_links()) == 3
    assert ask_link(client, "nobody@example.com")[0].status_code == 200  # another address: its own window
    set_signup(rt, magic_link=False)
    assert client.get("/login/link").status_code == 404
    assert "/login/link" not in client.get("/login").get_data(as_text=True)


# --- claiming a Telegram-first account ----------------------------------------------------------


@pytest.fixture
def telegram_customer(rt):
    set_signup(rt, telegram_first=True)
    customer = telegram_first.customer_for(rt, "support_bot", 9001, 9001, "tg_ivan", "Ivan", "ru")
    tickets.create_ticket(rt, customer, "chats/chat-problem", chat_problem(), [], "telegram")
    return customer


def test_claim_from_the_settings_page_moves_the_tickets(rt, telegram_customer, as_role, users):
    client = as_role("customer")
    assert 'name="code"' in client.get("/settings").get_data(as_text=True)
    refused = client.post("/settings/telegram-claim", {"code": "AAAAA-AAAAA"})
    assert refused.status_code == 422 and "Код недействителен" in refused.get_data(as_text=True)
    code = telegram_first.issue_claim_code(rt, telegram_customer)
    done = client.post("/settings/telegram-claim", {"code": code})
    assert done.status_code == 303 and "claimed=1" in done.headers["Location"]
    assert Ticket.get().customer_id == users["customer"].id
    assert "#" + str(Ticket.get().number) in client.get("/tickets").get_data(as_text=True)


def test_claim_attempts_are_rate_limited(rt, telegram_customer, as_role):
    client = as_role("customer")
    answers = [client.post("/settings/telegram-claim", {"code": "AAAAA-AAAAA"}).status_code for _ in range(6)]
    assert answers == [422] * 5 + [429]
    code = telegram_first.issue_claim_code(rt, telegram_customer)
    assert client.post("/settings/telegram-claim", {"code": code}).status_code == 429  # even a right one, for now
    assert Ticket.get().customer_id == telegram_customer.id


def test_sign_up_with_the_bot_code(rt, telegram_customer, web):
    code = telegram_first.issue_claim_code(rt, telegram_customer)
    page = web.get("/signup").get_data(as_text=True)
    assert 'name="code"' in page
    bad = web.post("/signup", {"email": "new@example.com", "password": PASSWORD, "name": "Иван", "code": "nope"})
    assert bad.status_code == 422 and not User.select().where(User.email == "new@example.com").exists()
    assert web.post("/signup", {"email": "new@example.com", "password": PASSWORD, "name": "Иван",
                                "code": code}).status_code == 200
    assert Ticket.get().customer.email == "new@example.com"

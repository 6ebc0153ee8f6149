"""Self-service accounts in headless Chromium against waitress, emails through a real SMTP server (aiosmtpd):
sign-up -> verification email -> verify -> a ticket; forgotten password -> reset email -> new password, and the
old session's copied cookie is worthless afterwards."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.notify.conftest import bound, mailbox, work  # noqa: F401  (fixtures used by these tests)
from tests.waiting import wait_for
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.browser
NEW_PASSWORD = "a brand new secret"


@pytest.fixture
def settings(settings, mailbox):  # noqa: F811
    return settings.with_overrides(env={"SMTP_URL": mailbox.url})


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def next_email(rt, box, count: int):
    """Deliver the outbox (an in-process RQ worker run) until the mailbox holds `count` messages; the last one."""
    def arrived():
        work(rt)
        return len(box.messages) >= count
    wait_for(arrived, 30, interval=0.1, message=f"{count} email(s)")
    recipients, message = box.messages[count - 1]
    return recipients, message


def link_in(message) -> str:
    """The emailed link's path: it is under PUBLIC_URL (not the test server's port), never the request's Host."""
    link = re.search(r"https?://\S+", message.get_body(preferencelist=("plain",)).get_content()).group(0)
    assert link.startswith("http://127.0.0.1:8000/")
    return link.removeprefix("http://127.0.0.1:8000")


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()


def test_sign_up_verify_and_create_a_ticket(page, bound, mailbox):  # noqa: F811
    page.goto("/login")
    page.get_by_role("link", name="Регистрация").click()
    page.get_by_label("Имя").fill("Вера")
    page.get_by_label("Электронная почта").fill("vera@example.com")
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Зарегистрироваться").click()
    expect(page.locator(".account-message")).to_contain_text("Проверьте почту")

    recipients, message = next_email(bound, mailbox, 1)
    assert recipients == ["vera@example.com"] and message["Subject"] == "Подтвердите адрес электронной почты"
    sign_in(page, "vera@example.com", PASSWORD)
    expect(page.locator(".verify-banner")).to_be_visible()
    page.goto("/c/chats/chat-problem")
    expect(page.locator(".account-message")).to_contain_text("подтвердите адрес")

    page.goto(link_in(message))
    expect(page.locator(".verify-banner")).to_have_count(0)
    page.goto("/c/chats/chat-problem")
    page.locator("#f-account_id").fill("12345")
    page.locator("#f-channel").select_option("Telegram")
    page.locator("#f-subject").fill("Бот перестал отвечать")
    page.locator("#f-message").fill("После обновления сценария бот молчит в Telegram.")
    page.get_by_role("button", name="Создать").click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))


def test_forgotten_password_reset_ends_the_old_session(page, browser, live_server, users, bound, mailbox):  # noqa: F811
    email = users["customer"].email
    old = browser.new_context(base_url=live_server, locale="ru-RU")
    old_page = old.new_page()
    sign_in(old_page, email, PASSWORD)
    expect(old_page.get_by_role("button", name="Выйти")).to_be_visible()
    copied = old.cookies()

    page.goto("/login")
    page.get_by_role("link", name="Забыли пароль?").click()
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_role("button", name="Отправить ссылку").click()
    expect(page.locator(".account-message")).to_contain_text("Если этот адрес зарегистрирован")

    recipients, message = next_email(bound, mailbox, 1)
    assert recipients == [email] and message["Subject"] == "Восстановление пароля"
    page.goto(link_in(message))
    page.get_by_label("Новый пароль").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Сохранить пароль").click()
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()  # signed in with the new password

    thief = browser.new_context(base_url=live_server, locale="ru-RU")
    thief.add_cookies(copied)
    stolen = thief.new_page()
    stolen.goto("/")
    expect(stolen).to_have_url(re.compile(r"/login"))  # the old session ended with the reset
    thief.close()
    old.close()

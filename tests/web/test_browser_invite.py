"""An invitation in headless Chromium against waitress, its email through a real SMTP server (aiosmtpd): an admin
invites a customer on /admin/users -> the invitation email arrives -> the customer sets a password -> signed in."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.notify.conftest import bound, mailbox, work  # noqa: F401  (fixtures used by this test)
from tests.web.test_browser_signup import link_in, next_email, page, settings, sign_in  # noqa: F401  (fixtures)
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.browser
NEW_PASSWORD = "a brand new secret"


def test_admin_invites_a_customer_who_accepts_and_is_signed_in(page, browser, live_server, users, bound, mailbox):  # noqa: F811
    sign_in(page, users["admin"].email, PASSWORD)
    page.get_by_role("link", name="Пользователи").click()
    page.get_by_label("Электронная почта").fill("vera@example.com")
    page.get_by_label("Имя (необязательно)").fill("Вера")
    page.get_by_role("button", name="Отправить приглашение").click()
    expect(page.locator(".alert-ok")).to_contain_text("Приглашение отправлено на vera@example.com")
    expect(page.locator("#users")).to_contain_text("Приглашён")

    recipients, message = next_email(bound, mailbox, 1)
    assert recipients == ["vera@example.com"] and message["Subject"] == "Приглашение в службу поддержки"
    guest = browser.new_context(base_url=live_server, locale="ru-RU")
    invited = guest.new_page()
    invited.goto(link_in(message))
    expect(invited.get_by_text("vera@example.com")).to_be_visible()
    invited.get_by_label("Новый пароль").fill(NEW_PASSWORD)
    invited.get_by_role("button", name="Задать пароль и войти").click()
    expect(invited).to_have_url(re.compile(r"/$"))
    expect(invited.locator(".who")).to_have_text("Вера")  # signed in as the invited customer
    expect(invited.locator(".verify-banner")).to_have_count(0)  # the address is confirmed
    guest.close()

    page.reload()
    expect(page.locator("#users")).not_to_contain_text("Приглашён")

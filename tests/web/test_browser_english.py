"""In Chromium: a customer switches the portal to English and sees the shipped catalog's categories, form and help in English."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.test_browser import shot, sign_in  # noqa: F401,F811 (a fixture)

pytestmark = pytest.mark.browser


def test_switch_to_english_shows_categories_form_and_help(sign_in, users):
    page = sign_in(users["customer"].email)
    expect(page.get_by_text("Чаты и рассылки", exact=True)).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_text("Chats and mailings", exact=True)).to_be_visible()
    expect(page.get_by_text("Чаты и рассылки", exact=True)).to_have_count(0)
    page.get_by_text("Bot and scenarios", exact=True).click()
    page.get_by_role("link", name="Bot error").click()
    expect(page.get_by_role("heading", name="Bot error")).to_be_visible()
    expect(page.get_by_label("Account number")).to_be_visible()
    page.locator("#fw-account_id summary").click()
    expect(page.locator("#help-account_id")).to_have_text(
        "Open your account and copy the value in the top right corner, next to the account's name.")
    expect(page.get_by_label("The problem in a few words")).to_be_visible()
    shot(page, "20-english-form")

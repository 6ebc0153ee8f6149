"""The whole story in real headless Chromium against a real waitress server: customer, agent, admin."""
from __future__ import annotations

import dataclasses
import re
import shutil
from urllib.parse import unquote_plus

import pytest
from playwright.sync_api import Page, expect

from engine.catalog_sync import CatalogHolder
from engine.settings import PROJECT_ROOT
from tests.waiting import wait_for
from tests.web.conftest import PASSWORD, WebClient
from web import create_app
from tests.web.helpers import PNG
from tests.web.test_admin import NEW_CATEGORY

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "web"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def sign_in(browser, live_server):
    """sign_in(email) -> a page of a fresh browser context signed in as that user; contexts close after the test."""
    contexts = []

    def make(email: str, **context_args) -> Page:
        context = browser.new_context(base_url=live_server, locale="ru-RU", **context_args)
        contexts.append(context)
        return _signed_in(context.new_page(), email)

    yield make
    for context in contexts:
        context.close()


def _signed_in(page: Page, email: str) -> Page:
    page.set_default_timeout(10_000)
    page.goto("/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    return page


def _cookies(page: Page) -> dict[str, str]:
    return {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}


def test_customer_agent_and_admin_story(sign_in, users, config_dir):
    customer = sign_in(users["customer"].email)
    expect(customer.get_by_role("heading", name="Не знаете, что выбрать?")).to_be_visible()
    shot(customer, "01-home")

    # Search a phrase and pick the suggested topic: the live search keeps the session cookie as it was and keeps the
    # last search in a cookie of its own, which the topic page forgets (it was offered: no search feedback).
    session_cookie = _cookies(customer)["helpdesk_session"]
    phrase = "ошибка в чате, диалог остановился"
    with customer.expect_response(lambda response: unquote_plus(response.url).endswith(f"/search?q={phrase}")):
        customer.get_by_label("Кратко опишите вашу ситуацию").press_sequentially(phrase, delay=15)
    suggestion = customer.locator('#suggestions a[href="/c/chats/chat-problem"]')
    expect(suggestion).to_be_visible()
    expect(customer.locator("#suggestions")).to_contain_text("Чаты и рассылки")
    shot(customer, "02-search")
    assert _cookies(customer)["helpdesk_session"] == session_cookie and "helpdesk_search" in _cookies(customer)
    suggestion.click()
    expect(customer).to_have_url(re.compile(r"/c/chats/chat-problem$"))
    assert "helpdesk_search" not in _cookies(customer)

    # A wrong ID shows the engine's message inline as the customer leaves the field.
    account = customer.locator("#f-account_id")
    account.fill("12a")
    account.press("Tab")
    error = customer.locator("#err-account_id")
    expect(error).not_to_be_empty()
    customer.locator("#fw-account_id details summary").click()  # the where-to-find help opens inline
    shot(customer, "03-inline-error")
    customer.locator("#f-account_id").fill("12345")
    customer.locator("#f-account_id").press("Tab")
    expect(customer.locator("#err-account_id")).to_be_empty()

    customer.locator("#f-channel").select_option("Другое")  # visible_when: "Какой канал связи?" appears
    expect(customer.locator("#f-channel_other")).to_be_visible()
    expect(customer.locator(".htmx-settling")).to_have_count(0)  # htmx has wired the swapped-in select
    customer.locator("#f-channel").select_option("Telegram")
    expect(customer.locator("#f-channel_other")).to_be_hidden()
    customer.locator("#f-subject").fill("Бот перестал отвечать")
    customer.locator("#f-message").fill("После обновления сценария бот молчит в Telegram.")
    customer.locator("#f-attachments").set_input_files([
        {"name": "screen.png", "mimeType": "image/png", "buffer": PNG},
        {"name": "log.txt", "mimeType": "text/plain", "buffer": "ошибка 500\n".encode()},
    ])
    customer.get_by_role("button", name="Создать").click()
    expect(customer).to_have_url(re.compile(r"/tickets/\d+$"))
    number = customer.url.rsplit("/", 1)[1]
    expect(customer.locator(".files")).to_contain_text("screen.png")
    expect(customer.locator(".fields-list")).to_contain_text("12345")
    shot(customer, "04-ticket")

    # The agent answers from the console.
    agent = sign_in(users["agent"].email)
    agent.get_by_role("link", name=f"#{number}").click()
    agent.get_by_label("Сообщение").fill("Переопубликуйте сценарий, пожалуйста.")
    agent.get_by_role("button", name="Отправить").click()
    expect(agent.locator(".message-agent")).to_contain_text("Переопубликуйте")
    shot(agent, "05-agent-reply")

    # The customer's open page shows the reply without a reload (htmx polling), then the notification.
    expect(customer.locator(".message-agent")).to_contain_text("Переопубликуйте", timeout=15_000)
    customer.reload()
    expect(customer.locator("#notif-badge .counter")).to_have_text(re.compile(r"^[1-9]\d*$"))
    shot(customer, "06-customer-sees-reply")
    customer.locator("#notif-badge").click()
    expect(customer.locator(".notification").first).to_contain_text(f"#{number}")
    shot(customer, "07-notifications")

    customer.goto(f"/tickets/{number}")
    customer.get_by_label("Сообщение").fill("Спасибо, заработало!")
    customer.get_by_role("button", name="Отправить").click()
    expect(customer.locator(".message-customer").last).to_contain_text("Спасибо")
    customer.get_by_role("button", name="В архив").click()
    expect(customer.locator(".ticket-meta")).to_contain_text("В архиве")
    shot(customer, "08-archived")

    # The admin adds a category file and reloads; the portal offers it without a restart.
    (config_dir / "categories" / "security.yaml").write_text(NEW_CATEGORY)
    admin = sign_in(users["admin"].email)
    admin.get_by_role("link", name="Администрирование").click()
    admin.get_by_role("button", name="Перечитать конфигурацию").click()
    expect(admin.locator(".changes")).to_contain_text("+ тема security/two-factor")
    shot(admin, "09-admin-reload")
    customer.goto("/")
    customer.get_by_role("link", name=re.compile("Безопасность")).click()
    customer.get_by_role("link", name="Двухфакторная аутентификация").click()
    expect(customer.get_by_role("heading", name="Двухфакторная аутентификация")).to_be_visible()
    shot(customer, "10-new-topic")


def test_phone_layout_and_keyboard_focus(sign_in, users):
    """On a phone the form is one column and readable; keyboard focus is visible."""
    page = sign_in(users["customer"].email, viewport=PHONE)
    page.goto("/c/chats/chat-problem")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    shot(page, "11-phone-topic")


def test_settings_issue_a_telegram_link_with_a_qr_code(sign_in, users):
    page = sign_in(users["customer"].email)
    page.get_by_role("link", name="Настройки").click()
    page.get_by_label("Имя пользователя Telegram (без @)").fill("anna_tg")
    page.get_by_label("Включить работу с поддержкой").check()
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status")).to_contain_text("Настройки сохранены")
    page.locator("#tg-slot-support_bot").locator("..").get_by_role("button", name="Получить ссылку для подключения").click()
    expect(page.locator("#tg-slot-support_bot svg")).to_be_visible()
    expect(page.locator("#tg-command-support_bot")).to_have_value(re.compile(r"^/start [A-Za-z0-9_-]{20,}$"))
    shot(page, "12-settings-telegram")


def test_admin_previews_applies_and_rolls_back_a_topic_and_another_process_follows(sign_in, users, rt, config_dir,
                                                                                    tmp_path):
    """The admin edits a topic, sees the change and the topic's web form and Telegram questions before applying,
    applies with a comment, finds it in the history and rolls back in one click: a second app following the
    config versions (its own catalog holder and config folder) serves the renamed topic, then the old one again."""
    rt.catalogs.reload(comment="начало")
    other = CatalogHolder(shutil.copytree(config_dir, tmp_path / "other-host"), redis=rt.redis, db=rt.db, poll_interval=1)
    second = WebClient(create_app(runtime=dataclasses.replace(rt, catalogs=other), overrides={"TESTING": True}).test_client())
    second.login(users["customer"].email)

    def second_app_title() -> str:
        page = second.get("/c/chats/chat-problem").get_data(as_text=True)
        return re.search(r"<h1[^>]*>([^<]+)</h1>", page).group(1).strip()

    try:
        assert second_app_title() == "Проблема с чатами"
        topics = config_dir / "categories" / "chats.yaml"
        topics.write_text(topics.read_text(encoding="utf-8").replace(
            "title: {ru: Проблема с чатами, en: Chat problem}", "title: {ru: Сбой в чате, en: Chat failure}"), encoding="utf-8")

        admin = sign_in(users["admin"].email)
        admin.goto("/admin/")
        admin.get_by_role("link", name="Проверить файлы").click()
        expect(admin.locator("#draft-changes")).to_contain_text(
            '~ тема chats/chat-problem: название: "Проблема с чатами" -> "Сбой в чате"')
        preview = admin.locator("#preview-chats-chat-problem")
        expect(preview.get_by_role("heading", level=3)).to_contain_text("Сбой в чате")
        expect(preview.get_by_label("Номер ЛК")).to_be_disabled()  # the web form, not submittable
        expect(preview.locator(".preview-message").first).to_contain_text("Тема: Сбой в чате")  # the bot's first words
        shot(admin, "12-admin-draft")
        assert second_app_title() == "Проблема с чатами"  # nothing applied yet

        admin.get_by_label("Комментарий (необязательно)").fill("переименовали тему")
        admin.get_by_role("button", name="Применить").click()
        expect(admin.locator(".reload-result")).to_contain_text("Сохранена версия 2")
        expect(admin.locator("#version-2")).to_contain_text("переименовали тему")
        wait_for(lambda: second_app_title() == "Сбой в чате", message="the second app to follow version 2")

        admin.once("dialog", lambda dialog: dialog.accept())
        admin.locator("#version-1").get_by_role("button", name="Откатить к этой версии").click()
        expect(admin.locator(".reload-result")).to_contain_text("Версия 1 опубликована снова как версия 3")
        expect(admin.locator("#version-3")).to_contain_text("Откат к версии 1")
        shot(admin, "13-admin-rollback")
        wait_for(lambda: second_app_title() == "Проблема с чатами", message="the second app to follow the rollback")
        assert other.number == 3 and other.current.version == rt.catalog.version
    finally:
        other.close()

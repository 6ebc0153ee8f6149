"""Uploads in real Chromium: an oversized upload never wipes what was typed; files survive a validation error."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from engine.blobstore.s3 import S3BlobStore
from engine.store.models import Ticket
from tests.storage.moto import CREDENTIALS, free_port
from tests.web.conftest import LiveServer
from tests.web.helpers import PNG, TOPIC_URL
from tests.web.test_browser import _signed_in, shot

pytestmark = pytest.mark.browser
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def small_limits(config_dir):
    """Two files of at most 1 MB each (the server's body limit: 3 MB)."""
    (config_dir / "policies.yaml").write_text("policies:\n  attachments: {max_files: 2, max_file_size_mb: 1}\n")


@pytest.fixture
def open_form(browser, app, users):
    """open_form(**server_overrides) -> a signed-in customer's page on the chat-problem form of a fresh server."""
    servers, contexts = [], []

    def make(**overrides) -> Page:
        servers.append(LiveServer(app, **overrides))
        context = browser.new_context(base_url=f"http://127.0.0.1:{servers[-1].port}", locale="ru-RU")
        contexts.append(context)
        page = _signed_in(context.new_page(), users["customer"].email)
        expect(page.get_by_role("heading", name="Не знаете, что выбрать?")).to_be_visible()
        page.goto(TOPIC_URL)
        return page

    yield make
    for context in contexts:
        context.close()
    for server in servers:
        server.stop()


def type_the_form(page: Page, account_id: str = "12345") -> None:
    page.locator("#f-account_id").fill(account_id)
    page.locator("#f-channel").select_option("Telegram")
    page.locator("#f-subject").fill("Бот перестал отвечать")
    page.locator("#f-message").fill("Длинное описание, которое жалко потерять.")


def expect_typed_text_kept(page: Page) -> None:
    expect(page).to_have_url(re.compile(re.escape(TOPIC_URL) + "$"))
    expect(page.locator("#f-subject")).to_have_value("Бот перестал отвечать")
    expect(page.locator("#f-message")).to_have_value("Длинное описание, которое жалко потерять.")


def test_the_browser_refuses_a_file_over_the_limit_before_sending(open_form):
    page = open_form()
    posts = []
    sent = lambda request: request.method == "POST" and request.url.endswith(TOPIC_URL)  # noqa: E731 (not inline checks)
    page.on("request", lambda request: posts.append(request.url) if sent(request) else None)
    type_the_form(page)
    page.locator("#f-attachments").set_input_files([{"name": "video.bin", "mimeType": "application/octet-stream",
                                                     "buffer": b"x" * (MB + MB // 2)}])
    expect(page.locator("#err-attachments")).to_have_text("Файл «video.bin» больше 1 МБ.")  # as soon as chosen
    page.get_by_role("button", name="Создать").click()
    expect(page.locator("#err-attachments")).to_have_text("Файл «video.bin» больше 1 МБ.")
    shot(page, "10-upload-refused-in-browser")
    expect_typed_text_kept(page)
    assert posts == []

    three = [{"name": f"{i}.png", "mimeType": "image/png", "buffer": PNG} for i in range(3)]
    page.locator("#f-attachments").set_input_files(three)
    page.get_by_role("button", name="Создать").click()
    expect(page.locator("#err-attachments")).to_have_text("Можно прикрепить не больше 2 файлов.")
    assert posts == []


def test_a_body_the_server_refuses_leaves_the_form_as_typed(open_form):
    """The server's own limit (here waitress's, made smaller than the policy allows) refuses the upload."""
    page = open_form(max_request_body_size=300_000)
    type_the_form(page)
    page.locator("#f-attachments").set_input_files([{"name": "log.txt", "mimeType": "text/plain", "buffer": b"a\n" * 250_000}])
    page.get_by_role("button", name="Создать").click()
    alert = page.locator("[data-upload-alert]")
    expect(alert).to_have_text(re.compile(r"Слишком большой запрос|Форма не отправлена"))
    shot(page, "11-upload-refused-by-server")
    expect_typed_text_kept(page)
    assert page.locator("#f-attachments").evaluate("input => input.files.length") == 1


def test_chosen_files_survive_a_validation_error(open_form):
    page = open_form()
    type_the_form(page, account_id="12a")
    page.locator("#f-attachments").set_input_files([{"name": "screen.png", "mimeType": "image/png", "buffer": PNG}])
    page.get_by_role("button", name="Создать").click()
    kept = page.locator(".kept-files")
    expect(kept).to_contain_text("screen.png")
    expect(kept.get_by_role("checkbox")).to_be_checked()
    expect(page.locator("#err-account_id")).not_to_be_empty()
    shot(page, "12-files-kept-after-error")
    page.locator("#f-account_id").fill("12345")
    page.get_by_role("button", name="Создать").click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+$"))
    expect(page.locator(".files")).to_contain_text("screen.png")


def test_unreachable_storage_leaves_the_form_as_typed_with_a_clear_message(rt, open_form):
    """The attachment store cannot be reached: 503, swapped in by htmx, the typed values there, no ticket."""
    nowhere = {**CREDENTIALS, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    rt.__dict__["blobs"] = S3BlobStore.from_env("gone", "", nowhere)  # replaces the cached property's value
    page = open_form()
    type_the_form(page)
    page.locator("#f-attachments").set_input_files([{"name": "screen.png", "mimeType": "image/png", "buffer": PNG}])
    page.get_by_role("button", name="Создать").click()
    expect(page.get_by_role("alert").filter(has_text="Не удалось сохранить файлы")).to_be_visible()
    shot(page, "13-storage-unavailable")
    expect_typed_text_kept(page)
    assert Ticket.select().count() == 0

"""Uploads and body limits: kept files after a validation error, the browser's limits, the localized 413 page."""
from __future__ import annotations

import http.client
import io
import re
import shutil
import uuid

import pytest

from engine.store.models import Attachment, Message
from tests.web.conftest import WebClient
from tests.web.helpers import PNG, TOPIC_URL, chat_problem, make_ticket

KEPT_RE = re.compile(r'name="_kept" value="([^"]+)"')


@pytest.fixture
def small_limits(config_dir):
    """One file of at most 1 MB: the server's body limit becomes 2 MB (files + 1 MB of margin)."""
    (config_dir / "policies.yaml").write_text("policies:\n  attachments: {max_files: 1, max_file_size_mb: 1}\n")


def files(*named):
    return [(io.BytesIO(data), name) for name, data in named]


def submit(client: WebClient, values: dict, attachments=(), kept=()):
    data = {**values, "attachments": files(*attachments), "_kept": list(kept)}
    return client.post(TOPIC_URL, data, content_type="multipart/form-data")


def test_files_chosen_before_a_validation_error_are_kept(as_role):
    client = as_role("customer")
    response = submit(client, chat_problem(account_id="12a"), [("screen.png", PNG), ("virus.exe", b"MZ\x90\x00" * 10)])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Уже прикреплены" in page and "screen.png" in page and "virus.exe" not in page.split("kept-files")[1][:400]
    tokens = KEPT_RE.findall(page)
    assert len(tokens) == 1  # the refused .exe is not kept
    response = submit(client, chat_problem(), kept=tokens)
    assert response.status_code == 303
    assert [a.original_name for a in Attachment.select()] == ["screen.png"]


def test_an_unticked_kept_file_is_not_sent(as_role, redis):
    client = as_role("customer")
    submit(client, chat_problem(account_id="12a"), [("screen.png", PNG)])
    assert redis.keys("web:pending:*")
    assert submit(client, chat_problem()).status_code == 303
    assert Attachment.select().count() == 0
    assert redis.keys("web:pending:*") == []


def test_kept_files_belong_to_their_session(as_role):
    owner, other = as_role("customer"), as_role("other")
    tokens = KEPT_RE.findall(submit(owner, chat_problem(account_id="12a"), [("screen.png", PNG)]).get_data(as_text=True))
    assert submit(other, chat_problem(), kept=tokens).status_code == 303
    assert Attachment.select().count() == 0
    assert KEPT_RE.findall(owner.get(TOPIC_URL).get_data(as_text=True)) == tokens  # still the owner's


def test_a_reply_keeps_its_files_after_a_validation_error(rt, as_role, users):
    ticket = make_ticket(rt, users["customer"])
    client = as_role("customer")
    url = f"/tickets/{ticket.number}/reply"
    response = client.post(url, {"message": "лог", "attachments": files(("log.txt", b"error 500\n"), ("x.exe", b"MZ\x90\x00"))},
                           content_type="multipart/form-data")
    tokens = KEPT_RE.findall(response.get_data(as_text=True))
    assert response.status_code == 422 and len(tokens) == 1
    assert client.post(url, {"message": "вот лог", "_kept": tokens}, content_type="multipart/form-data").status_code == 303
    reply = Message.select().where(Message.body == "вот лог").get()
    assert [a.original_name for a in reply.attachments] == ["log.txt"]


def test_signing_out_forgets_kept_files(as_role, redis):
    client = as_role("customer")
    submit(client, chat_problem(account_id="12a"), [("screen.png", PNG)])
    client.post("/logout")
    assert redis.keys("web:pending:*") == []


def test_forms_carry_the_limits_and_messages_for_the_browser_check(rt, as_role, users):
    client = as_role("customer")
    for page in (client.get(TOPIC_URL), client.get(f"/tickets/{make_ticket(rt, users['customer']).number}")):
        html = page.get_data(as_text=True)
        assert 'data-max-files="5"' in html and 'data-max-bytes="10485760"' in html
        assert "data-msg-size=\"Файл «{name}» больше 10 МБ.\"" in html
        assert 'data-msg-count="Можно прикрепить не больше 5 файлов."' in html
        assert re.search(r'data-max-body="\d+"', html) and "uploads.js" in html
        assert 'data-msg-too-large="Слишком большой запрос.' in html


def _post_over_limit(live_server: str, size: int, referer: str) -> tuple[int, str]:
    host, port = live_server.removeprefix("http://").split(":")
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"big.bin\"\r\n\r\n".encode()
            + b"x" * size + f"\r\n--{boundary}--\r\n".encode())
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("POST", TOPIC_URL, body=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": referer})
    response = connection.getresponse()
    return response.status, response.read().decode()


def test_a_body_over_the_limit_gets_the_localized_page_with_a_way_back(small_limits, live_server):
    status, page = _post_over_limit(live_server, 3 * 1024 * 1024, f"{live_server}{TOPIC_URL}?from=search")
    assert status == 413
    assert "Слишком большой запрос" in page and "Request Entity Too Large" not in page
    assert f'href="{TOPIC_URL}?from=search"' in page and "Вернуться к форме" in page


def test_the_way_back_never_leads_to_another_site(small_limits, live_server):
    status, page = _post_over_limit(live_server, 3 * 1024 * 1024, "https://evil.example/c/chats/chat-problem")
    assert status == 413 and "evil.example" not in page and "Вернуться к форме" not in page


def test_a_data_folder_that_refuses_files_keeps_the_typed_form(rt, as_role):
    """The attachments folder cannot be written (here a file stands where it should be): 503 with a clear message
    and every typed value back in the form, no ticket and no 500."""
    attachments = rt.settings.attachments_dir
    attachments.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(attachments, ignore_errors=True)
    attachments.write_text("not a folder")
    client = as_role("customer")
    values = chat_problem(message="Подробное описание, которое нельзя терять.")
    response = submit(client, values, [("screen.png", PNG)])
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Не удалось сохранить файлы" in page and "Подробное описание, которое нельзя терять." in page
    assert values["account_id"] in page and Message.select().count() == 0

"""The portal with attachments in S3 (moto_server): uploads land in the bucket, downloads stream through the app
after the same access checks, and two web hosts with different data folders serve each other's files."""
from __future__ import annotations

import re

import pytest
import requests

from engine.runtime import start_runtime
from engine.store.models import Attachment
from web import create_app
from tests.web.conftest import CSRF_RE, PASSWORD
from tests.web.helpers import PNG, TOPIC_URL, chat_problem, run_py_web
from tests.web.test_uploads import KEPT_RE, submit

LOCATION_RE = re.compile(r"/tickets/(\d+)$")


def test_an_upload_lands_in_the_bucket_and_downloads_only_for_its_owner(rt, as_role, users, moto_server, bucket):
    customer = as_role("customer")
    response = submit(customer, {**chat_problem(), "_idem": "s3" * 10}, [("screen.png", PNG)])
    assert response.status_code == 303
    attachment = Attachment.get()
    listed = rt.blobs.client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"attachments/{attachment.sha256[:2]}/{attachment.sha256}"]
    assert not rt.settings.attachments_dir.exists()  # nothing on the local disk

    number = attachment.ticket.number
    url = f"/tickets/{number}/files/{attachment.id}"
    download = customer.get(url)
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Length"] == str(len(PNG))
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff" and download.mimetype == "image/png"
    assert customer.get(url, headers={"If-None-Match": f'"{attachment.sha256}"'}).status_code == 304
    partial = customer.get(url, headers={"Range": "bytes=0-7"})
    assert partial.status_code == 206 and partial.data == PNG[:8]

    assert as_role("other").get(url).status_code == 404  # another customer: as if it did not exist
    assert as_role("agent").get(f"/agent/tickets/{number}/files/{attachment.id}").data == PNG


def test_a_blob_missing_from_the_bucket_is_a_404(rt, as_role, users):
    customer = as_role("customer")
    assert submit(customer, {**chat_problem(), "_idem": "gone" * 5}, [("screen.png", PNG)]).status_code == 303
    attachment = Attachment.get()
    rt.blobs.delete(attachment.sha256)
    assert customer.get(f"/tickets/{attachment.ticket.number}/files/{attachment.id}").status_code == 404


def test_kept_files_wait_in_the_bucket(rt, as_role, users, bucket):
    customer = as_role("customer")
    refused = submit(customer, chat_problem(account_id="12a"), [("screen.png", PNG)])
    assert refused.status_code == 422
    [token] = KEPT_RE.findall(refused.get_data(as_text=True))
    assert rt.blobs.exists(rt.blobs.put(PNG)) and not rt.settings.attachments_dir.exists()
    assert submit(customer, {**chat_problem(), "_idem": "kept" * 5}, kept=[token]).status_code == 303
    assert Attachment.get().sha256 == rt.blobs.put(PNG)


def test_a_file_uploaded_through_one_host_downloads_from_another(rt, users, settings, redis, tmp_path):
    """Two `run.py web` processes, each with its own data folder, sharing the database, Redis, SECRET_KEY and S3."""
    shared = {"DATABASE_URL": settings.database_url or f"sqlite:///{settings.sqlite_path}", "SECRET_KEY": "one-key-for-all",
              "STORAGE_URL": settings.storage_url, **settings.env}
    with run_py_web(settings, redis, **shared, HELPDESK_DATA=str(tmp_path / "host-a")) as (_a, host_a), \
            run_py_web(settings, redis, **shared, HELPDESK_DATA=str(tmp_path / "host-b")) as (_b, host_b):
        anna = signed_in(host_a, users["customer"].email)
        form = anna.get(host_a + TOPIC_URL).text
        created = anna.post(host_a + TOPIC_URL, data={**chat_problem(), "_csrf": csrf(form), "_idem": "hosts" * 4},
                            files={"attachments": ("screen.png", PNG, "image/png")}, allow_redirects=False)
        assert created.status_code == 303, created.text[-500:]
        number = LOCATION_RE.search(created.headers["Location"]).group(1)
        attachment = Attachment.get()
        url = f"/tickets/{number}/files/{attachment.id}"

        from_b = anna.get(host_b + url)  # the same session cookie: one SECRET_KEY, sessions in the shared database
        assert from_b.status_code == 200 and from_b.content == PNG
        assert signed_in(host_b, users["other"].email).get(host_b + url).status_code == 404
        assert requests.get(host_b + "/readyz", timeout=10).json()["checks"]["storage"] == "ok"
    assert not (tmp_path / "host-a" / "attachments").exists() and not (tmp_path / "host-b" / "attachments").exists()


def csrf(page: str) -> str:
    return CSRF_RE.search(page).group(1)


def signed_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    token = csrf(session.get(base + "/login", timeout=10).text)
    answer = session.post(base + "/login", data={"email": email, "password": PASSWORD, "_csrf": token},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    return session


def test_a_storage_url_it_cannot_use_stops_the_web_app_at_start(settings, redis):
    rt = start_runtime(settings.with_overrides(storage_url="ftp://files.example.com/x"), redis=redis)
    with pytest.raises(ValueError, match="STORAGE_URL: expected s3://bucket"):
        create_app(runtime=rt, overrides={"TESTING": True})

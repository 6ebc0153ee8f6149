"""S3 taken away (moto_server killed) and brought back: the customer gets a clear message and keeps what they typed,
no ticket is half-created, readiness turns 503 naming storage, and everything works again after the restart."""
from __future__ import annotations

import io

import pytest

from engine.blobstore.s3 import S3BlobStore

from engine.store.models import Attachment, Message, Ticket
from tests.storage.moto import free_port
from tests.web.helpers import PNG, chat_problem, make_ticket
from tests.web.test_uploads import KEPT_RE, submit

STORAGE_DOWN = "Не удалось сохранить файлы: хранилище временно недоступно"


@pytest.fixture
def settings(settings, own_moto):
    """Attachments in a bucket of this test's own moto_server (the shared one must stay up for other tests)."""
    bucket = own_moto.create_bucket("outage")
    return settings.with_overrides(storage_url=f"s3://{bucket}/files", env={**settings.env, **own_moto.env()})


@pytest.fixture
def clock(rt):
    """The store's readiness cache runs on this clock: each probe in the test is a fresh HEAD."""
    now = [0.0]
    rt.blobs.clock = lambda: now[0]
    return now


def test_creating_a_ticket_while_storage_is_down_keeps_the_form_and_works_after_restart(rt, app, as_role, users,
                                                                                       own_moto, clock):
    customer = as_role("customer")
    probe = app.test_client()
    assert probe.get("/readyz").get_json()["checks"]["storage"] == "ok"

    own_moto.kill()
    clock[0] += 60
    values = {**chat_problem(subject="Счёт не пришёл", message="Пятый день жду счёт за май."), "_idem": "outage" * 4}
    refused = submit(customer, values, [("screen.png", PNG)])
    page = refused.get_data(as_text=True)
    assert refused.status_code == 503
    assert STORAGE_DOWN in page and "Счёт не пришёл" in page and "Пятый день жду счёт за май." in page
    assert Ticket.select().count() == 0 and Attachment.select().count() == 0 and Message.select().count() == 0
    ready = probe.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["storage"].startswith("unavailable: ")

    own_moto.start()
    own_moto.create_bucket("outage")  # moto keeps nothing across a restart; a real store keeps its bucket
    clock[0] += 60
    assert probe.get("/readyz").status_code == 200
    created = submit(customer, values, [("screen.png", PNG)])  # the same form, sent again
    assert created.status_code == 303
    [ticket] = Ticket.select()
    assert ticket.subject == "Счёт не пришёл" and Attachment.get().sha256 == rt.blobs.put(PNG)
    assert customer.get(f"/tickets/{ticket.number}/files/{Attachment.get().id}").data == PNG


def test_kept_files_survive_an_outage(rt, as_role, users, own_moto):
    """Files kept after a validation error stay kept while the store is down, and go with the ticket after."""
    customer = as_role("customer")
    [token] = KEPT_RE.findall(submit(customer, chat_problem(account_id="12a"), [("screen.png", PNG)]).get_data(as_text=True))
    own_moto.kill()
    refused = submit(customer, {**chat_problem(), "_idem": "kept-outage-1"}, kept=[token])
    assert refused.status_code == 503 and KEPT_RE.findall(refused.get_data(as_text=True)) == [token]
    own_moto.start()
    own_moto.create_bucket("outage")
    rt.blobs.put(PNG)  # a real store still holds the kept file; moto lost it with the restart
    assert submit(customer, {**chat_problem(), "_idem": "kept-outage-1"}, kept=[token]).status_code == 303
    assert Attachment.get().original_name == "screen.png"


def test_replies_and_downloads_while_storage_is_down(rt, as_role, users, own_moto):
    ticket = make_ticket(rt, users["customer"], files=[("screen.png", PNG)])
    attachment = Attachment.get()
    customer, agent = as_role("customer"), as_role("agent")
    own_moto.kill()
    download = customer.get(f"/tickets/{ticket.number}/files/{attachment.id}")
    assert download.status_code == 503 and "Сервис временно недоступен" in download.get_data(as_text=True)

    data = {"message": "Вот ещё скриншот", "attachments": [(io.BytesIO(PNG), "more.png")]}
    reply = customer.post(f"/tickets/{ticket.number}/reply", data, content_type="multipart/form-data")
    assert reply.status_code == 503
    assert STORAGE_DOWN in reply.get_data(as_text=True) and "Вот ещё скриншот" in reply.get_data(as_text=True)
    data = {"message": "Ответ с файлом", "attachments": [(io.BytesIO(PNG), "fix.png")]}
    staff = agent.post(f"/agent/tickets/{ticket.number}/reply", data, content_type="multipart/form-data")
    assert staff.status_code == 503 and "Ответ с файлом" in staff.get_data(as_text=True)
    assert Message.select().where(Message.ticket == ticket).count() == 1  # nothing half-added

    # A reply without files does not need the store.
    plain = customer.post(f"/tickets/{ticket.number}/reply", {"message": "Без файлов"})
    assert plain.status_code == 303


def test_unreachable_storage_never_hangs_a_request(rt, as_role, users, settings):
    """A store that is not there at all (wrong endpoint): the same clear answer, within the client's short timeouts."""
    nowhere = {**settings.env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    rt.__dict__["blobs"] = S3BlobStore.from_env("outage", "files", nowhere)  # replaces the cached property's value
    response = submit(as_role("customer"), {**chat_problem(), "_idem": "nowhere" * 3}, [("screen.png", PNG)])
    assert response.status_code == 503 and Ticket.select().count() == 0

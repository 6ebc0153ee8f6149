"""Tickets: creation, idempotency, snapshots, the lifecycle, the outbox and who may see what."""
from __future__ import annotations

import pytest

from engine import tickets
from engine.attachments import Upload
from engine.catalog import load_catalog
from engine.errors import NotFound, PermissionDenied, TransitionRefused, ValidationFailed
from engine.store.models import Attachment, AuditLog, Delivery, Message, Notification, Ticket, TicketEvent
from tests.engine.samples import EXE, PNG, png

pytestmark = pytest.mark.postgres

SITE = {"subject": "Сайт не открывается", "message": "С утра 502", "account_id": "12345", "panel": "ISPmanager"}


def create(rt, customer, values=None, uploads=(), **kwargs):
    return tickets.create_ticket(rt, customer, "hosting/site-down", dict(values or SITE), list(uploads), "web", **kwargs)


def outbox(ticket) -> list[tuple[str, dict]]:
    return [(n.type_id, n.params) for n in Notification.select().where(Notification.ticket == ticket).order_by(Notification.id)]


def test_create_stores_everything_in_one_go(rt, customer):
    """Number, priority from the topic, values by field id, first message, files, event and outbox row."""
    ticket = create(rt, customer, uploads=[png("../../screen.png")])
    assert (ticket.number, ticket.priority, ticket.status, ticket.channel) == (1001, "urgent", "new", "web")
    assert ticket.subject == "Сайт не открывается"
    assert ticket.fields == {"account_id": "12345", "panel": "isp"}
    [message] = Message.select().where(Message.ticket == ticket)
    assert (message.author_kind, message.body) == ("customer", "С утра 502")
    [attachment] = Attachment.select().where(Attachment.ticket == ticket)
    assert (attachment.original_name, attachment.content_type, attachment.message_id) == ("screen.png", "image/png", message.id)
    assert rt.blobs.read(attachment.sha256) == PNG
    assert [(e.old, e.new) for e in TicketEvent.select().where(TicketEvent.ticket == ticket)] == [(None, "new")]
    assert outbox(ticket) == [("ticket_created", {"ticket_number": 1001, "subject": "Сайт не открывается"})]
    assert [d.target for d in Delivery.select()] == ["customer@example.com"]


def test_repeated_idempotency_key_returns_the_first_ticket(rt, customer):
    first = create(rt, customer, idempotency_key="form-123")
    again = create(rt, customer, values={**SITE, "subject": "другое"}, idempotency_key="form-123")
    assert again.id == first.id
    assert Ticket.select().count() == 1 and Notification.select().count() == 1


def test_a_long_idempotency_key_is_hashed_not_cut(rt, customer):
    prefix = "k" * 100
    first = create(rt, customer, idempotency_key=prefix + "-1")
    assert create(rt, customer, idempotency_key=prefix + "-2").id != first.id
    assert create(rt, customer, idempotency_key=prefix + "-1").id == first.id


def test_a_disabled_account_cannot_reply(rt, customer, agent):
    ticket = create(rt, customer)
    agent.is_active = False
    with pytest.raises(PermissionDenied):
        tickets.add_reply(rt, ticket, agent, "hi", [], "web")


def test_the_same_key_from_another_customer_is_another_ticket(rt, customer, other_customer):
    assert create(rt, customer, idempotency_key="k").id != create(rt, other_customer, idempotency_key="k").id


@pytest.mark.parametrize("uploads, message", [
    ([png(f"{i}.png") for i in range(6)], "Можно прикрепить не больше 5 файлов."),
    ([Upload("empty.png", b"")], "Файл «empty.png» пустой."),
    ([Upload("big.png", PNG + b"\0" * (2 * 1024 * 1024))], "Файл «big.png» больше 2 МБ."),
    ([png(), Upload("invoice.png", EXE)], "Файл «invoice.png»: содержимое не соответствует расширению."),
])
def test_a_bad_upload_leaves_no_half_created_ticket(rt, customer, uploads, message):
    with pytest.raises(ValidationFailed) as exc:
        create(rt, customer, uploads=uploads)
    assert exc.value.errors == {"attachments": message}
    assert (Ticket.select().count(), Message.select().count(), Attachment.select().count(), Notification.select().count()) == (0, 0, 0, 0)
    assert not rt.settings.attachments_dir.exists()


def test_validation_errors_come_per_field_in_the_customers_language(rt, customer):
    customer.locale = "en"
    with pytest.raises(ValidationFailed) as exc:
        create(rt, customer, values={"subject": "", "message": "m", "account_id": "abc"})
    assert exc.value.errors == {"subject": "This field is required.", "account_id": "Номер ЛК состоит только из цифр, например 12345."}


def test_header_injection_in_the_subject_is_refused(rt, customer):
    """A subject reaches email headers: CR/LF never gets in."""
    with pytest.raises(ValidationFailed) as exc:
        create(rt, customer, values={**SITE, "subject": "Help\r\nBcc: victim@example.com"})
    assert exc.value.errors == {"subject": "Поле содержит недопустимые символы."}


def test_unknown_topic_or_one_not_offered_on_the_channel_is_not_found(rt, customer):
    with pytest.raises(NotFound):
        tickets.create_ticket(rt, customer, "hosting/nope", SITE, [], "web")
    with pytest.raises(NotFound):
        tickets.create_ticket(rt, customer, "hosting/web-only", {"subject": "s", "message": "m"}, [], "telegram")


def test_staff_cannot_open_tickets_as_customers(rt, agent):
    with pytest.raises(PermissionDenied):
        create(rt, agent)


def test_snapshot_survives_the_topic_being_renamed_and_removed(rt, customer, config_dir):
    """Edit the config copy, reload: the old ticket still renders with the labels it was created with."""
    ticket = create(rt, customer)
    site = config_dir / "forms" / "site.yaml"
    site.write_text(site.read_text().replace("label: Панель", "label: Панель управления"))
    (config_dir / "categories" / "hosting.yaml").write_text(
        "id: hosting\ntitle: Хостинг\ntopics:\n  - id: other\n    title: Иное\n")
    rt.catalogs.reload()
    assert rt.catalog.topic("hosting/site-down") is None
    stored = Ticket.get_by_id(ticket.id)
    assert stored.snapshot["topic_title"] == "Сайт не открывается"
    assert stored.snapshot["category_title"] == "Хостинг" and stored.snapshot["priority_hint"] == "urgent"
    assert tickets.field_rows(stored) == [("Номер ЛК", "12345"), ("Панель", "ISPmanager")]
    assert stored.snapshot["catalog_version"] != load_catalog(config_dir).version
    tickets.add_reply(rt, stored, customer, "ещё жив?", [], "web")  # replies do not need the topic


def test_numbers_are_sequential(rt, customer):
    assert [create(rt, customer, values={**SITE, "subject": f"s{i}"}).number for i in range(3)] == [1001, 1002, 1003]

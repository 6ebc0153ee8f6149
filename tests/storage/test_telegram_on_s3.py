"""Files a customer sends the bot go to S3; with the store down the bot says so and keeps the conversation."""
from __future__ import annotations

import pytest

from engine import accounts
from engine.store.models import Attachment, Message, Ticket
from tests.telegram.chat import PDF, Chat
from tests.telegram.conftest import SUPPORT_TOKEN, bots, fake_api, text  # noqa: F401  (the bots' fixtures)
from tests.telegram.test_reliability import at_message_step

CHAT = 7007


@pytest.fixture
def settings(settings, fake_api, own_moto):  # noqa: F811
    """Bots at the fake Bot API, attachments in a bucket of this test's own moto_server."""
    bucket = own_moto.create_bucket("bot-files")
    return settings.with_overrides(
        telegram_api_url=fake_api.url, storage_url=f"s3://{bucket}/files",
        env={**settings.env, **own_moto.env(), "SUPPORT_BOT_TOKEN": SUPPORT_TOKEN, "NOTIFY_BOT_TOKEN": "1002:NOTIFY-test-token"})


def test_a_ticket_or_reply_finished_while_storage_is_down_goes_through_on_the_next_finish(rt, fake_api, bots, own_moto):  # noqa: F811
    customer = accounts.create_user("bot@example.com", "secret-password-1")
    chat = Chat(fake_api, SUPPORT_TOKEN, CHAT)
    chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")
    at_message_step(chat)
    chat.send("Счёт во вложении").document(PDF, "invoice.pdf")

    own_moto.kill()
    chat.press("Завершить")
    assert text(rt, "storage_unavailable") in chat.texts()[-2]
    assert chat.last.startswith("Подробное описание проблемы")  # the files step is asked again, with «Завершить»
    assert Ticket.select().count() == 0

    own_moto.start()
    own_moto.create_bucket("bot-files")
    chat.press("Завершить")
    [ticket] = Ticket.select()
    attachment = Attachment.get()
    assert (attachment.ticket_id, attachment.original_name) == (ticket.id, "invoice.pdf")
    assert rt.blobs.read(attachment.sha256) == PDF
    assert not rt.settings.attachments_dir.exists()

    # A reply with a file while the store is down: the same message, the reply waits for another «Завершить».
    chat.press_data(f"r:{ticket.number}")
    chat.send("Вот акт сверки").document(b"act;sum\n1;100\n", "act.csv", "text/csv")
    own_moto.kill()
    chat.press("Завершить")
    assert chat.last == text(rt, "storage_unavailable")
    assert Message.select().where(Message.ticket == ticket).count() == 1
    own_moto.start()
    own_moto.create_bucket("bot-files")
    chat.press("Завершить")
    assert chat.last == text(rt, "reply_added", number=ticket.number)
    assert [a.original_name for a in Attachment.select().order_by(Attachment.id)] == ["invoice.pdf", "act.csv"]

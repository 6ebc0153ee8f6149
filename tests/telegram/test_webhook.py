"""POST /telegram/<binding>/webhook: the secret header is required, a repeated update_id is handled once."""
from __future__ import annotations

import pytest

from channels.telegram.webhook import webhook_secret
from engine.store.models import ProcessedUpdate
from tests.telegram.conftest import SUPPORT_TOKEN, text
from web import create_app

pytestmark = pytest.mark.postgres  # conversation state, update ids and links must hold on PostgreSQL too

HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHAT = 3003


@pytest.fixture
def client(rt):
    app = create_app(runtime=rt, overrides={"TESTING": True})
    return app.test_client()


def update(update_id: int, text_: str = "/help") -> dict:
    return {"update_id": update_id, "message": {"message_id": 1, "date": 0, "text": text_,
                                                "from": {"id": CHAT, "is_bot": False, "first_name": "A"},
                                                "chat": {"id": CHAT, "type": "private"}}}


def secret(client, binding: str = "support_bot") -> str:
    return webhook_secret(client.application.config["SECRET_KEY"], binding)


@pytest.mark.parametrize("headers", [{}, {HEADER: ""}, {HEADER: "wrong"}, {HEADER: "x" * 64}])
def test_missing_or_wrong_secret_is_401(rt, fake_api, client, headers):
    response = client.post("/telegram/support_bot/webhook", json=update(1), headers=headers)
    assert response.status_code == 401
    assert fake_api.calls_of("sendMessage") == [] and ProcessedUpdate.select().count() == 0


def test_other_bindings_secret_is_401(rt, fake_api, client):
    response = client.post("/telegram/support_bot/webhook", json=update(1), headers={HEADER: secret(client, "notify_bot")})
    assert response.status_code == 401


def test_update_is_handled_once(rt, fake_api, client):
    """Telegram retries a webhook it thinks failed: the second delivery of update 42 changes nothing."""
    headers = {HEADER: secret(client)}
    first = client.post("/telegram/support_bot/webhook", json=update(42), headers=headers)
    again = client.post("/telegram/support_bot/webhook", json=update(42), headers=headers)
    assert (first.status_code, first.json["handled"]) == (200, True)
    assert (again.status_code, again.json["handled"]) == (200, False)
    assert [m["text"] for m in fake_api.sent_to(CHAT, SUPPORT_TOKEN)] == [text(rt, "help")]


@pytest.mark.parametrize("body, status", [("not json", 400), ({"no": "update_id"}, 400), ({"update_id": "1"}, 400)])
def test_malformed_updates_are_400(rt, client, body, status):
    kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
    response = client.post("/telegram/support_bot/webhook", headers={HEADER: secret(client)}, **kwargs)
    assert response.status_code == status


def test_unknown_binding_is_404(rt, client):
    response = client.post("/telegram/ghost/webhook", json=update(1), headers={HEADER: secret(client, "ghost")})
    assert response.status_code == 404

"""send_telegram against the fake Bot API: success, splitting, and every failure class."""
from __future__ import annotations

import pytest

from channels.telegram import sender
from channels.telegram.sender import send_telegram
from engine.errors import PermanentDeliveryError, TemporaryDeliveryError
from tests.telegram.conftest import NOTIFY_TOKEN, SUPPORT_TOKEN

CHAT = 5551


def test_send_plain_text_with_buttons(rt, fake_api):
    """A message arrives at the notification bot's chat with its buttons, via TELEGRAM_API_URL."""
    send_telegram(rt, "support_bot", CHAT, "Ответ <b>поддержки</b>", buttons=[[("Добавить ответ", "r:7")]])
    [message] = fake_api.sent_to(CHAT, SUPPORT_TOKEN)
    assert message["text"] == "Ответ <b>поддержки</b>"  # no parse mode: customer text is never markup
    assert fake_api.buttons(message) == [("Добавить ответ", "r:7")]
    assert fake_api.calls_of("sendMessage")[0].params.get("parse_mode") is None


def test_two_bots_use_their_own_tokens(rt, fake_api):
    """Each binding sends with its own token to the same server root."""
    send_telegram(rt, "notify_bot", CHAT, "a")
    send_telegram(rt, "support_bot", CHAT, "b")
    assert [m["text"] for m in fake_api.sent_to(CHAT, NOTIFY_TOKEN)] == ["a"]
    assert [m["text"] for m in fake_api.sent_to(CHAT, SUPPORT_TOKEN)] == ["b"]


def test_long_text_is_split_at_4096(rt, fake_api):
    """A 10,000-character text goes out in parts Telegram accepts, buttons under the last."""
    text = ("слово " * 1700).strip()
    send_telegram(rt, "support_bot", CHAT, text, buttons=[[("x", "r:1")]])
    sent = fake_api.sent_to(CHAT)
    assert len(sent) == 3 and all(len(m["text"]) <= 4096 for m in sent)
    assert " ".join(m["text"] for m in sent) == text
    assert [bool(fake_api.buttons(m)) for m in sent] == [False, False, True]


@pytest.mark.parametrize("kind, error, retry_after", [
    ("429", TemporaryDeliveryError, 7),
    ("5xx", TemporaryDeliveryError, None),
    ("403", PermanentDeliveryError, None),
    ("400", PermanentDeliveryError, None),
])
def test_failures_are_classified(rt, fake_api, kind, error, retry_after):
    """429 carries retry_after, 5xx is retried, 403 blocked and 400 chat not found are final."""
    fake_api.fail("sendMessage", kind, retry_after=7)
    with pytest.raises(error) as info:
        send_telegram(rt, "support_bot", CHAT, "hi")
    if error is TemporaryDeliveryError:
        assert info.value.retry_after == retry_after
    assert fake_api.sent_to(CHAT) == []


def test_timeout_is_temporary(rt, fake_api, monkeypatch):
    """A Bot API server that does not answer in time gives a retryable error, not a hang."""
    monkeypatch.setattr(sender, "SEND_TIMEOUT", 0.3)
    fake_api.fail("sendMessage", "timeout", delay=2)
    with pytest.raises(TemporaryDeliveryError):
        send_telegram(rt, "support_bot", CHAT, "hi")


def test_unknown_binding_is_permanent(rt):
    with pytest.raises(PermanentDeliveryError):
        send_telegram(rt, "no_such_bot", CHAT, "hi")


def test_blocked_chat_is_permanent(rt, fake_api):
    fake_api.blocked.add(CHAT)
    with pytest.raises(PermanentDeliveryError, match="blocked"):
        send_telegram(rt, "support_bot", CHAT, "hi")

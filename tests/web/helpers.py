"""Shared helpers of the web tests: a valid chat-problem submission and tickets made through the engine."""
from __future__ import annotations

from engine import tickets
from engine.attachments import Upload

TOPIC_URL = "/c/chats/chat-problem"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def chat_problem(**overrides) -> dict:
    """Form values that pass the chat-problem form's validation."""
    values = {"account_id": "12345", "chat_id": "chat-1", "channel": "Telegram", "subject": "Бот молчит",
              "message": "После обновления бот не отвечает в Telegram."}
    values.update(overrides)
    return values


def make_ticket(rt, customer, files=(), **overrides):
    """A ticket created through the engine, as the web form would create it."""
    uploads = [Upload(name, data) for name, data in files]
    return tickets.create_ticket(rt, customer, "chats/chat-problem", chat_problem(**overrides), uploads, "web")

"""A test customer talking to a bot through the fake Bot API, one action at a time."""
from __future__ import annotations

from tests.telegram.fake_bot_api import FakeBotAPI

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


class Chat:
    """Each action injects an update and waits until the bot handled it (confirmed it by offset)."""

    def __init__(self, api: FakeBotAPI, token: str, chat_id: int, username: str | None = None,
                 chat_type: str = "private", user_id: int | None = None):
        self.api, self.token, self.chat_id, self.chat_type = api, token, chat_id, chat_type
        self.user = api.user(user_id or abs(chat_id), username)

    def _wait(self) -> None:
        self.api.wait_idle(self.token)

    def send(self, text: str) -> "Chat":
        self.api.user_text(self.token, self.chat_id, text, user=self.user, chat_type=self.chat_type)
        self._wait()
        return self

    def press(self, caption: str) -> "Chat":
        before = len(self.api.callbacks)
        self.api.press_button(self.token, self.chat_id, caption)
        self._wait()
        assert len(self.api.callbacks) == before + 1
        return self

    def press_data(self, data: str) -> "Chat":
        self.api.press(self.token, self.chat_id, data, user=self.user)
        self._wait()
        return self

    def photo(self, data: bytes = JPEG, caption: str | None = None) -> "Chat":
        self.api.user_photo(self.token, self.chat_id, data, caption=caption, user=self.user)
        self._wait()
        return self

    def document(self, data: bytes | None = PDF, name: str = "invoice.pdf", mime: str = "application/pdf",
                 size: int | None = None) -> "Chat":
        self.api.user_document(self.token, self.chat_id, data, name, mime, size=size, user=self.user)
        self._wait()
        return self

    def album(self, photos: list[bytes], caption: str | None = None) -> "Chat":
        self.api.user_album(self.token, self.chat_id, photos, caption=caption, user=self.user)
        self._wait()
        return self

    @classmethod
    def linked(cls, rt, api: FakeBotAPI, token: str, chat_id: int, email: str) -> "Chat":
        """A new customer whose private chat is linked to the support bot by /start with a link token."""
        from engine import accounts

        customer = accounts.create_user(email, "secret-password-1")
        chat = cls(api, token, chat_id)
        return chat.send(f"/start {accounts.issue_link_token(rt, customer, 'support_bot')}")

    @property
    def messages(self) -> list[dict]:
        return self.api.sent_to(self.chat_id, self.token)

    @property
    def last(self) -> str:
        return self.messages[-1]["text"]

    def texts(self, since: int = 0) -> list[str]:
        return [m.get("text") or m.get("caption", "") for m in self.messages[since:]]

    def buttons(self) -> list[str]:
        return [caption for caption, _ in self.api.buttons(self.messages[-1])]

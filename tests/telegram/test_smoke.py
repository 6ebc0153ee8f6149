from engine import accounts
from tests.telegram.chat import Chat
from tests.telegram.conftest import SUPPORT_TOKEN, text


def test_smoke(rt, fake_api, bots):
    user = accounts.create_user("a@example.com", "pw-123456789")
    token = accounts.issue_link_token(rt, user, "support_bot")
    chat = Chat(fake_api, SUPPORT_TOKEN, 111)
    chat.send(f"/start {token}")
    assert chat.last == text(rt, "start_linked")
    chat.send("/createticket")
    print(chat.texts())
    print(chat.buttons())

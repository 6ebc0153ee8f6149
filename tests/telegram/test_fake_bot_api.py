"""The fake Bot API validates what real Telegram validates, so the bot tests mean something."""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from tests.telegram.fake_bot_api import FakeBotAPI, FloodLimits

TOKEN = "77:fake-token"


@pytest.fixture
def api():
    with FakeBotAPI([TOKEN]) as server:
        yield server


def call(api, method, token=TOKEN, **params):
    return requests.post(f"{api.url}/bot{token}/{method}", json=params, timeout=60).json()  # bounds a hang; a long poll may wait up to its own timeout


@pytest.mark.parametrize("method, params, code, description", [
    ("sendMessage", {"chat_id": 1, "text": "x" * 4097}, 400, "Bad Request: message is too long"),
    ("sendMessage", {"chat_id": 1, "text": " "}, 400, "Bad Request: message text is empty"),
    ("sendMessage", {"chat_id": 1, "text": "a", "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "ж" * 33}]]}},
     400, "Bad Request: BUTTON_DATA_INVALID"),
    ("sendMessage", {"chat_id": 1, "text": "<script>x</script>", "parse_mode": "HTML"}, 400,
     "Bad Request: can't parse entities: Unsupported start tag \"script\""),
    ("sendMessage", {"text": "a"}, 400, "Bad Request: chat_id is empty"),
    ("answerCallbackQuery", {"callback_query_id": "999"}, 400,
     "Bad Request: query is too old and response timeout expired or query ID is invalid"),
    ("noSuchMethod", {}, 404, "Not Found: method not found"),
])
def test_rejects_what_telegram_rejects(api, method, params, code, description):
    answer = call(api, method, **params)
    assert (answer["ok"], answer["error_code"], answer["description"]) == (False, code, description)


def test_unknown_token_is_401(api):
    assert call(api, "getMe", token="1:wrong") == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_caption_limit(api):
    files = {"document": ("a.txt", b"hello")}
    r = requests.post(f"{api.url}/bot{TOKEN}/sendDocument", data={"chat_id": 1, "caption": "c" * 1025}, files=files, timeout=5)
    assert r.json()["description"] == "Bad Request: message caption is too long"


def test_long_polling_wakes_on_update_and_offset_confirms(api):
    """getUpdates waits for an update, returns it, and an offset past it drops it."""
    injected = []
    threading.Timer(0.2, lambda: injected.append(time.monotonic()) or api.user_text(TOKEN, 5, "hello")).start()
    started = time.monotonic()
    [update] = call(api, "getUpdates", timeout=30)["result"]
    returned = time.monotonic()
    assert returned - started > 0.1  # it waited for the update
    assert returned - injected[0] < 3  # and the update woke it, long before the poll's 30 s timeout
    assert update["message"]["text"] == "hello"
    assert call(api, "getUpdates", offset=update["update_id"] + 1, timeout=0)["result"] == []


def test_files_are_served_and_big_ones_refused(api):
    small = api.add_file(b"data", name="a.txt")
    big = api.add_file(size=25 * 1024 * 1024, name="big.zip")
    path = call(api, "getFile", file_id=small.file_id)["result"]["file_path"]
    assert requests.get(f"{api.url}/file/bot{TOKEN}/{path}", timeout=5).content == b"data"
    assert call(api, "getFile", file_id=big.file_id)["description"] == "Bad Request: file is too big"


def test_programmed_429_then_success(api):
    api.fail("sendMessage", "429", retry_after=4)
    first = call(api, "sendMessage", chat_id=3, text="a")
    assert first["parameters"] == {"retry_after": 4} and first["error_code"] == 429
    assert call(api, "sendMessage", chat_id=3, text="a")["ok"]
    assert [m["text"] for m in api.sent_to(3)] == ["a"]


def test_callback_answered_once(api):
    call(api, "sendMessage", chat_id=3, text="pick", reply_markup=json.dumps({"inline_keyboard": [[{"text": "b", "callback_data": "x"}]]}))
    api.press_button(TOKEN, 3, "b")
    [query] = api.unanswered_callbacks()
    assert call(api, "answerCallbackQuery", callback_query_id=query["id"])["ok"]
    assert not call(api, "answerCallbackQuery", callback_query_id=query["id"])["ok"]
    assert api.unanswered_callbacks() == []


def test_enforced_limits_refuse_what_telegram_would():
    """The opt-in flood limits on the fake's own clock: 1/s per chat, 30 in any second per bot, 20 a minute per
    group; refused sends are not counted, and 20 ms of the fake's request-handling jitter are tolerated."""
    limits = FloodLimits()
    assert limits.check(TOKEN, 1, 100.0) is None
    assert limits.check(TOKEN, 1, 100.5) == 1  # 0.5 s after the last one to that chat
    assert limits.check(TOKEN, 1, 100.99) is None  # within the tolerance of one second
    bot = FloodLimits()
    assert all(bot.check(TOKEN, 100 + i, 100.0 + i * 0.01) is None for i in range(30))
    assert bot.check(TOKEN, 999, 100.5) == 1  # the 31st within a second
    assert bot.check(TOKEN, 999, 101.05) is None  # the first ones have left the window
    group = FloodLimits(per_bot_per_second=1000)
    assert all(group.check(TOKEN, -5, 200.0 + 1.01 * i) is None for i in range(20))
    assert group.check(TOKEN, -5, 200.0 + 1.01 * 20) >= 30  # the 21st within a minute waits for the first to age


def test_enforced_limits_answer_429_over_http(api):
    api.enforce_limits()
    assert call(api, "sendMessage", chat_id=5, text="a")["ok"]
    refused = call(api, "sendMessage", chat_id=5, text="b")
    assert refused["error_code"] == 429 and refused["parameters"] == {"retry_after": 1}
    assert [c.params["text"] for c in api.limits.refused] == ["b"] and len(api.sent_to(5)) == 1


def test_message_length_counts_utf16_units(api):
    """Telegram counts UTF-16 code units: 2,048 emoji are 4,096 units (accepted), one more is refused."""
    assert call(api, "sendMessage", chat_id=6, text="😀" * 2048)["ok"]
    assert call(api, "sendMessage", chat_id=6, text="😀" * 2049)["description"] == "Bad Request: message is too long"

"""The shipped forms validate as the seeds describe: skippable service ID, conditional channel, ID patterns."""
from __future__ import annotations

import pytest

from engine.forms import validate_submission

CHAT = {"account_id": "12345", "subject": "Бот молчит", "message": "Клиент написал, бот не ответил."}


def test_planetahost_service_id_can_be_skipped(planetahost):
    form = planetahost.forms["default"]
    values, errors = validate_submission(planetahost, form, {"subject": "Сайт не открывается", "message": "С утра 502."}, None, "ru")
    assert errors == {} and "service_id" not in values


def test_planetahost_service_id_must_be_digits(planetahost):
    form = planetahost.forms["default"]
    _, errors = validate_submission(planetahost, form, {"subject": "s", "message": "m", "service_id": "vps-1"}, None, "ru")
    assert errors == {"service_id": "ID услуги состоит только из цифр, например 123456."}


@pytest.mark.parametrize(
    ("extra", "errors"),
    [
        ({"channel": "Telegram"}, {}),
        ({"channel": "Другое", "channel_other": "Одноклассники"}, {}),
        ({"channel": "Другое"}, {"channel_other": "Заполните это поле."}),
        ({}, {"channel": "Заполните это поле."}),
        ({"channel": "Telegram", "chat_id": "чат 5"}, {
            "chat_id": "Идентификатор чата состоит из цифр, латинских букв и дефисов, без пробелов. Скопируйте его кнопкой в строке чата."}),
    ],
)
def test_chat_problem_asks_which_channel_only_for_other(twin, extra, errors):
    form = twin.form_for(twin.topic("chats/chat-problem"))
    values, found = validate_submission(twin, form, {**CHAT, **extra}, None, "ru")
    assert found == errors
    if not errors:
        assert ("channel_other" in values) == (extra.get("channel") == "Другое")

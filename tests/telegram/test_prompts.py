"""Every field type the engine knows has a Telegram prompt; callback data of each stays short ASCII."""
from __future__ import annotations

import pytest

from channels.telegram.events import Ctx
from channels.telegram.prompts import PROMPTS
from engine.catalog.catalog import Field
from engine.catalog.schema import SelectOption
from engine.forms import FIELD_TYPES


def test_every_field_type_has_a_prompt():
    assert set(PROMPTS) == set(FIELD_TYPES)


@pytest.mark.parametrize("field_type", sorted(FIELD_TYPES))
def test_prompt_texts_and_buttons(rt, field_type):
    """A label first; buttons only where the type is answered by pressing; data within Telegram's 64 bytes."""
    options = tuple(SelectOption(value=f"Очень длинный вариант ответа номер {i}") for i in range(30))
    field = Field(id="f", label="Вопрос", type=field_type, options=options)
    ctx = Ctx(rt=rt, binding_id="support_bot", binding_ids=("support_bot",), chat_id=1, chat_type="private",
              tg_user_id=1, tg_username=None, locale="ru", user=None, serves_tickets=True, fetch=lambda ref: b"")
    text, rows = PROMPTS[field_type](ctx, field, 999)
    assert text.startswith("Вопрос")
    data = [d for row in rows for _, d in row]
    assert all(d.isascii() and len(d.encode()) <= 64 for d in data)
    assert len(data) == {"select": 30, "boolean": 2, "attachments": 1}.get(field_type, 0)

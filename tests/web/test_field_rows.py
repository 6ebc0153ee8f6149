"""The inline check's fragment rendered once per shape and filled in (web/field_rows.py) equals a plain render."""
from __future__ import annotations

from tests.web.helpers import TOPIC_URL
from web import field_rows

SENT = [  # (checked field, form): text-like values with characters to escape, errors, selects in and out of options
    ("account_id", {"account_id": "12345"}),
    ("account_id", {"account_id": '12"a<b>&c'}),
    ("account_id", {"account_id": ""}),
    ("message", {"message": "строка <i>один</i>\nи 'две' & «три»"}),
    ("channel", {"channel": "Telegram", "channel_other": "x"}),
    ("channel", {"channel": "Другое", "channel_other": 'Viber "beta" <3'}),
    ("channel", {"channel": "Другое", "channel_other": ""}),
    ("channel", {"channel": "нет такого", "channel_other": "y"}),
    ("channel", {"channel": "", "channel_other": "z"}),
]


def test_a_filled_fragment_equals_a_fresh_render(as_role, monkeypatch):
    client = as_role("customer")

    def fragment(field_id: str, form: dict) -> str:
        return client.post(f"{TOPIC_URL}/check/{field_id}", form, htmx=True).get_data(as_text=True)
    for field_id, form in reversed(SENT):  # the shapes rendered first with the values of other cases
        fragment(field_id, form)
    filled = [fragment(field_id, form) for field_id, form in SENT]
    monkeypatch.setattr(field_rows, "filled", lambda _key, rows, error, render: render(lambda n: rows[n][1], error))
    fresh = [fragment(field_id, form) for field_id, form in SENT]  # rendered with the values, no markers
    assert filled == fresh
    assert 'value="12&#34;a&lt;b&gt;&amp;c"' in filled[1] and 'aria-invalid="true"' in filled[1]

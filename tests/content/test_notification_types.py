"""Every notification type of both configs renders on every channel with values of its declared param types."""
from __future__ import annotations

import pytest

from engine.render import render

SAMPLES = {"string": "Тариф Старт", "number": 150.5, "integer": 42, "boolean": True, "date": "2026-12-03"}
OVERRIDES = {"auto_close_at": "2026-12-03T10:00:00+00:00", "reason": ""}


@pytest.mark.parametrize("config", ["twin", "planetahost"])
@pytest.mark.parametrize("channel", ["web", "telegram", "email"])
def test_every_type_renders_every_param(request, config, channel):
    catalog = request.getfixturevalue(config)
    for type_id, spec in catalog.notification_types.items():
        params = {name: OVERRIDES.get(name, SAMPLES[kind]) for name, kind in spec.params.items()}
        rendered = render(catalog, type_id, channel, params)
        assert rendered.text and "{{" not in rendered.text and "{%" not in rendered.text, type_id
        if "ticket_number" in params:
            assert "#42" in rendered.text + rendered.subject, (type_id, channel)


def test_the_reminder_shows_the_closing_time_in_minutes(twin):
    """In the recipient's zone, labelled: policies.time_zone (Europe/Moscow) unless given another."""
    params = {"ticket_number": 7, "subject": "Тест", "auto_close_at": "2026-12-03T10:00:00.123+00:00"}
    assert "будет закрыт 03.12.2026 13:00 МСК" in render(twin, "auto_close_reminder", "telegram", params).text
    assert "будет закрыт 03.12.2026 15:00 (UTC+5)" in render(twin, "auto_close_reminder", "telegram", params,
                                                             time_zone="Asia/Yekaterinburg").text

"""engine.local_time: one formatter for every time people read, labelled with the zone."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

from engine.local_time import format_time, is_zone, viewer_zone
from engine.render import template

WINTER = datetime(2027, 1, 15, 9, 5, tzinfo=timezone.utc)
SUMMER = datetime(2027, 7, 15, 9, 5, tzinfo=timezone.utc)


def test_zones_with_letters_without_them_and_with_daylight_saving():
    assert format_time(WINTER, "Europe/Moscow") == "15.01.2027 12:05 МСК"
    assert format_time(WINTER, "Europe/Moscow", "en") == "15.01.2027 12:05 MSK"
    assert format_time(SUMMER, "Europe/Moscow") == "15.07.2027 12:05 МСК"  # no DST
    assert format_time(WINTER, "Europe/Berlin") == "15.01.2027 10:05 CET"
    assert format_time(SUMMER, "Europe/Berlin") == "15.07.2027 11:05 CEST"
    assert format_time(WINTER, "Asia/Yekaterinburg") == "15.01.2027 14:05 (UTC+5)"
    assert format_time(WINTER, "Asia/Kolkata") == "15.01.2027 14:35 IST"
    assert format_time(WINTER, "Asia/Kathmandu") == "15.01.2027 14:50 (UTC+5:45)"
    assert format_time(WINTER, "America/Sao_Paulo") == "15.01.2027 06:05 (UTC-3)"
    assert format_time(WINTER, "UTC", date=False) == "09:05 UTC"


def test_text_naive_and_missing_values():
    assert format_time("2027-01-15T09:05:00+00:00", "Europe/Moscow") == "15.01.2027 12:05 МСК"
    assert format_time(WINTER.replace(tzinfo=None), "Europe/Moscow") == "15.01.2027 12:05 МСК"  # naive is UTC
    assert format_time(None, "UTC") == format_time("", "UTC") == ""
    assert format_time("скоро", "UTC") == "скоро"  # not a time: shown as it is
    assert format_time(WINTER, "No/Such") == "15.01.2027 09:05 UTC"


def test_the_viewer_zone_is_the_person_s_else_the_policy_s():
    policies = SimpleNamespace(time_zone="Europe/Moscow")
    assert viewer_zone(SimpleNamespace(time_zone="Asia/Omsk"), policies) == "Asia/Omsk"
    assert viewer_zone(SimpleNamespace(time_zone=None), policies) == "Europe/Moscow"
    assert viewer_zone(SimpleNamespace(time_zone="../../etc/passwd"), policies) == "Europe/Moscow"
    assert viewer_zone(None, policies) == "Europe/Moscow"
    assert is_zone("Europe/Moscow") and not is_zone("Europe/Moskow") and not is_zone("") and not is_zone(None)


def test_templates_use_the_recipient_zone_from_the_context():
    source = "Закроется {{ at | local_time }}, в {{ at | local_time(date=false) }}"
    assert template(source).render(at=WINTER.isoformat(), _viewer=("Asia/Yekaterinburg", "ru")) == \
        "Закроется 15.01.2027 14:05 (UTC+5), в 14:05 (UTC+5)"
    assert template(source).render(at=WINTER.isoformat()) == "Закроется 15.01.2027 09:05 UTC, в 09:05 UTC"

"""config/sla.yaml: calendars and targets load into the Catalog's SlaPolicy; every mistake is `file:line: key: message`."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from engine.catalog import ConfigErrors, load_catalog
from engine.catalog.changes import catalog_diff

GOOD = """
    calendar: msk
    warn_before: 30m
    calendars:
      msk:
        time_zone: Europe/Moscow
        hours: {mon: "09:00-18:00", tue: ["09:00-13:00", "14:00-24:00"]}
        holidays: [2027-01-01]
      berlin: {time_zone: Europe/Berlin, hours: {fri: "10:00-12:00"}}
    targets:
      urgent: {first_response: 1h, resolution: 4h}
      normal: {resolution: 2d}
    topics:
      chats: {targets: {urgent: {first_response: 10m}}}
      chats/other: {calendar: berlin, targets: {low: {resolution: 8h}}}
    """


def test_sla_loads_calendars_and_targets_per_priority_and_topic(mini):
    mini.write("sla.yaml", GOOD)
    sla = load_catalog("config").sla
    assert sla.calendar("msk").week[1] == ((time(9), time(13)), (time(14), time(0)))
    assert sla.calendar("msk").holidays == {date(2027, 1, 1)}
    assert sla.calendar("gone").time_zone == "Europe/Moscow"  # a removed calendar falls back to the default
    assert sla.warn_before == timedelta(minutes=30)
    base = sla.targets_for("finance", "x", "urgent")
    assert (base.calendar_id, dict(base.limits)) == ("msk", {"first_response": timedelta(hours=1), "resolution": timedelta(hours=4)})
    assert dict(sla.targets_for("finance", "x", "normal").limits) == {"resolution": timedelta(days=2)}
    assert dict(sla.targets_for("finance", "x", "low").limits) == {}
    assert dict(sla.targets_for("chats", "chat-problem", "urgent").limits) == {"first_response": timedelta(minutes=10)}
    assert dict(sla.targets_for("chats", "chat-problem", "normal").limits) == {"resolution": timedelta(days=2)}
    other = sla.targets_for("chats", "other", "low")
    assert (other.calendar_id, dict(other.limits)) == ("berlin", {"resolution": timedelta(hours=8)})


def test_no_sla_file_means_no_sla(mini):
    assert load_catalog("config").sla is None


CASES = [
    pytest.param(
        "calendar: msk\ncalendars:\n  msk:\n    time_zone: Europe/Moskow\n    hours: {mon: '09:00-18:00'}\ntargets: {}\n",
        ["config/sla.yaml:4: calendars.msk.time_zone: unknown time zone 'Europe/Moskow' (an IANA name, e.g. Europe/Moscow)"],
        id="time-zone",
    ),
    pytest.param(
        "calendar: msk\ncalendars:\n  msk:\n    time_zone: UTC\n    hours:\n      mon: '18:00-09:00'\n"
        "      tue: ['09:00-13:00', '12:00-18:00']\ntargets: {}\n",
        ["config/sla.yaml:6: calendars.msk.hours.mon: '18:00-09:00' ends before it starts",
         "config/sla.yaml:7: calendars.msk.hours.tue.1: '12:00-18:00' overlaps '09:00-13:00'"],
        id="hours",
    ),
    pytest.param(
        "calendar: msk\ncalendars:\n  msk:\n    time_zone: UTC\n    hours: {mon: '9-18'}\ntargets: {}\n",
        ["config/sla.yaml:5: calendars.msk.hours.mon: invalid hours '9-18': use HH:MM-HH:MM, e.g. 09:00-18:00 (24:00 for midnight)"],
        id="hours-format",
    ),
    pytest.param(
        "calendar: mks\ncalendars:\n  msk: {time_zone: UTC, hours: {}}\ntargets: {}\ntopics:\n  chatz: {calendar: x, targets: {}}\n",
        ["config/sla.yaml:1: calendar: unknown calendar 'mks' (did you mean 'msk'?)",
         "config/sla.yaml:3: calendars.msk.hours: no working hours: name at least one weekday",
         "config/sla.yaml:6: topics.chatz: unknown topic or category 'chatz' (did you mean 'chats'?)",
         "config/sla.yaml:6: topics.chatz.calendar: unknown calendar 'x'"],
        id="references",
    ),
    pytest.param(
        "calendar: msk\ncalendars:\n  msk: {time_zone: UTC, hours: {mon: '09:00-18:00'}}\ntargets:\n  urgent: {first_response: soon}\n",
        ["config/sla.yaml:5: targets.urgent.first_response: invalid duration 'soon': use a number and one of s, m, h, d (e.g. 2d)"],
        id="duration",
    ),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_mistakes_name_file_line_and_key(mini, text, expected):
    mini.write("sla.yaml", text)
    with pytest.raises(ConfigErrors) as caught:
        load_catalog("config")
    assert sorted(str(e) for e in caught.value.errors) == sorted(expected)


def test_a_catalog_diff_names_the_sla_settings_that_changed(mini):
    mini.write("sla.yaml", GOOD)
    before = load_catalog("config")
    mini.write("sla.yaml", GOOD.replace("first_response: 1h", "first_response: 90m").replace("[2027-01-01]", "[]"))
    assert catalog_diff(before, load_catalog("config")).lines("en") == [
        "- sla calendars.msk.holidays.2027-01-01",
        '~ sla targets.urgent.first_response: "1h" -> "90m"',
    ]

"""Business-time arithmetic: weekends, holidays, starts outside hours, a zone without DST and one with it."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.business_time import BusinessCalendar, NoBusinessHours, add, between

NINE_TO_SIX = ((time(9), time(18)),)
WEEKDAYS = {day: NINE_TO_SIX for day in range(5)}
MOSCOW = BusinessCalendar.of("Europe/Moscow", WEEKDAYS, {date(2027, 1, 1), date(2027, 3, 8)})
BERLIN = BusinessCalendar.of("Europe/Berlin", WEEKDAYS)
MSK, CET = ZoneInfo("Europe/Moscow"), ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def at(zone, *parts) -> datetime:
    return datetime(*parts, tzinfo=zone)


def test_inside_one_day():
    assert add(MOSCOW, at(MSK, 2027, 3, 3, 10), 2 * H) == at(MSK, 2027, 3, 3, 12)


def test_runs_over_the_weekend():
    """Friday 16:00 + 4 h = Monday 11:00 (2 h on Friday, 2 h on Monday)."""
    friday = at(MSK, 2027, 3, 12, 16)
    due = add(MOSCOW, friday, 4 * H)
    assert due == at(MSK, 2027, 3, 15, 11)
    assert due.tzinfo == timezone.utc
    assert between(MOSCOW, friday, due) == 4 * H


def test_skips_a_holiday():
    """Friday 5 March 17:00 + 2 h: Monday 8 March is a holiday, so Tuesday 10:00."""
    assert add(MOSCOW, at(MSK, 2027, 3, 5, 17), 2 * H) == at(MSK, 2027, 3, 9, 10)
    assert between(MOSCOW, at(MSK, 2027, 3, 5, 0), at(MSK, 2027, 3, 10, 0)) == 18 * H  # Fri + Tue


@pytest.mark.parametrize("start", [(2027, 3, 3, 7, 30), (2027, 3, 2, 20, 0), (2027, 3, 6, 12, 0)],
                         ids=["before-opening", "after-closing", "saturday"])
def test_starts_outside_hours_at_the_next_opening(start):
    begin = at(MSK, *start)
    opening = add(MOSCOW, begin, timedelta(0))
    assert opening.astimezone(MSK).time() == time(9)
    assert add(MOSCOW, begin, 30 * timedelta(minutes=1)) == opening + timedelta(minutes=30)
    assert between(MOSCOW, begin, opening) == timedelta(0)


def test_exactly_a_full_day_ends_at_closing():
    assert add(MOSCOW, at(MSK, 2027, 3, 3, 9), 9 * H) == at(MSK, 2027, 3, 3, 18)


def test_moscow_has_no_dst():
    """Europe/Moscow is UTC+3 all year: 09:00 is 06:00 UTC in March and October alike."""
    for month in (3, 11):
        assert add(MOSCOW, at(MSK, 2027, month, 1, 0), timedelta(0)) == datetime(2027, month, 1, 6, tzinfo=timezone.utc)
    assert add(MOSCOW, at(MSK, 2027, 10, 29, 17), 2 * H) == datetime(2027, 11, 1, 7, tzinfo=timezone.utc)


def test_berlin_across_the_march_switch():
    """Friday 26 March 2027 17:00 CET (UTC+1) + 2 h: Monday 29 March 10:00 CEST (UTC+2) = 08:00 UTC; the week
    of the switch still has nine working hours a day."""
    due = add(BERLIN, at(CET, 2027, 3, 26, 17), 2 * H)
    assert due == datetime(2027, 3, 29, 8, tzinfo=timezone.utc)
    assert due.astimezone(CET).hour == 10
    assert between(BERLIN, at(CET, 2027, 3, 26, 9), at(CET, 2027, 3, 29, 18)) == 18 * H


def test_berlin_across_the_october_switch():
    """Friday 29 October 2027 17:00 CEST + 2 h: Monday 1 November 10:00 CET = 09:00 UTC."""
    due = add(BERLIN, at(CET, 2027, 10, 29, 17), 2 * H)
    assert due == datetime(2027, 11, 1, 9, tzinfo=timezone.utc)
    assert between(BERLIN, at(CET, 2027, 10, 29, 17), due) == 2 * H


def test_a_round_the_clock_day_on_the_switch_counts_real_hours():
    """00:00-24:00 on the Sunday the clocks go forward is 23 real hours."""
    always = BusinessCalendar.of("Europe/Berlin", {day: ((time(0), time(0)),) for day in range(7)})
    assert between(always, at(CET, 2027, 3, 28, 0), at(CET, 2027, 3, 29, 0)) == 23 * H


def test_between_is_negative_backwards_and_zero_on_a_weekend():
    monday, tuesday = at(MSK, 2027, 3, 15, 9), at(MSK, 2027, 3, 16, 9)
    assert between(MOSCOW, tuesday, monday) == -9 * H
    assert between(MOSCOW, at(MSK, 2027, 3, 13, 9), at(MSK, 2027, 3, 14, 20)) == timedelta(0)


def test_split_day_and_lunch_break():
    lunch = BusinessCalendar.of("Europe/Moscow", {0: ((time(14), time(18)), (time(9), time(13)))})
    assert add(lunch, at(MSK, 2027, 3, 15, 12), 2 * H) == at(MSK, 2027, 3, 15, 15)


def test_a_calendar_without_hours_raises():
    with pytest.raises(NoBusinessHours):
        add(BusinessCalendar.of("UTC", {}), datetime(2027, 1, 1, tzinfo=timezone.utc), H)

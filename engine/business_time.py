"""Business-time arithmetic: working hours of a week in a time zone, minus holidays.

Pure (no database, no clock of its own: callers pass the instants). Instants are aware datetimes (any zone in, UTC
out); each working interval is built in the calendar's zone on its local date and converted to UTC, so a day on which
the clocks change (Europe/Berlin in March and October) counts the hours that really passed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator, Mapping
from zoneinfo import ZoneInfo

MAX_IDLE_DAYS = 3660  # days without a working minute after which a calendar is taken to have none (ten years)
MAX_CACHED_DAYS = 4096  # a calendar's memo of days' intervals is emptied past this many
END_OF_DAY = time(0)  # an interval ending at 00:00 ("24:00") ends at the next midnight

Hours = tuple[tuple[time, time], ...]  # one weekday's working intervals, local wall-clock times


class NoBusinessHours(ValueError):
    """The calendar has no working time within MAX_IDLE_DAYS of the instant."""


@dataclass(frozen=True)
class BusinessCalendar:
    """`week[0..6]` (Monday first): that weekday's intervals, sorted and disjoint; `holidays`: local dates off."""

    time_zone: str
    week: tuple[Hours, ...]
    holidays: frozenset[date] = frozenset()
    # Each local date's intervals, computed once per calendar (a catalog version keeps its calendars).
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    @classmethod
    def of(cls, time_zone: str, week: Mapping[int, Hours], holidays=()) -> "BusinessCalendar":
        return cls(time_zone, tuple(tuple(sorted(week.get(day, ()))) for day in range(7)), frozenset(holidays))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working intervals of a local date, as UTC instants (none on a holiday)."""
        found = self._days.get(day)
        if found is None:
            if len(self._days) >= MAX_CACHED_DAYS:
                self._days.clear()
            found = self._days[day] = tuple(self._intervals(day))
        return found

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        zone = self.zone
        out = []
        for opens, closes in self.week[day.weekday()]:
            start = datetime.combine(day, opens, zone)
            end = datetime.combine(day + timedelta(days=1) if closes == END_OF_DAY else day, closes, zone)
            out.append((start.astimezone(timezone.utc), end.astimezone(timezone.utc)))
        return out

    def working_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (UTC) from `instant` on, the first one clipped to start at it."""
        instant = instant.astimezone(timezone.utc)
        day = instant.astimezone(self.zone).date() - timedelta(days=1)  # an interval of yesterday may run past midnight
        idle = 0
        while idle <= MAX_IDLE_DAYS:
            found = False
            for start, end in self.intervals(day):
                if end > instant:
                    found = True
                    yield max(start, instant), end
            idle = 0 if found else idle + 1
            day += timedelta(days=1)
        raise NoBusinessHours(f"no working hours in {self.time_zone} within {MAX_IDLE_DAYS} days of {instant}")


def add(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant (UTC) when `duration` of business time has passed since `start`; a start outside working hours
    counts from the next opening. A zero duration is `start` itself, or the next opening when closed."""
    left = duration
    for opens, closes in calendar.working_from(start):
        if closes - opens >= left:
            return opens + left
        left -= closes - opens
    raise AssertionError("unreachable: working_from raises when it runs out")


def between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time from `start` to `end`; negative when `end` is earlier."""
    if end < start:
        return -between(calendar, end, start)
    total = timedelta(0)
    end = end.astimezone(timezone.utc)
    for opens, closes in calendar.working_from(start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total

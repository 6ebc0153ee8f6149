"""SLA policies (config/sla.yaml): their load-time checks and the built `SlaPolicy` the Catalog holds."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from types import MappingProxyType
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.business_time import BusinessCalendar
from engine.catalog.durations import parse_duration
from engine.catalog.errors import ConfigError, Source, did_you_mean

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TARGETS = ("first_response", "resolution")  # the SLA targets, in the order a ticket page lists them


@dataclass(frozen=True)
class Targets:
    """What one ticket is held to: its calendar's id and the business time of each tracked target."""

    calendar_id: str
    limits: Mapping[str, timedelta]  # target name -> business time allowed (only the tracked targets)


@dataclass(frozen=True)
class SlaPolicy:
    calendars: Mapping[str, BusinessCalendar]
    calendar_id: str  # the default calendar
    warn_before: timedelta | None
    targets: Mapping[str, Mapping[str, timedelta]]  # priority -> target -> limit
    topics: Mapping[str, tuple[str | None, Mapping[str, Mapping[str, timedelta]]]]  # key -> (calendar, targets)

    def targets_for(self, category_id: str, topic_id: str, priority: str) -> Targets:
        """The targets of a ticket: its topic's override, else its category's, else the file's, for its priority."""
        calendar_id, limits = self.calendar_id, self.targets.get(priority, {})
        override = self.topics.get(f"{category_id}/{topic_id}") or self.topics.get(category_id)
        if override is not None:
            calendar_id = override[0] or calendar_id
            limits = override[1].get(priority, limits)
        return Targets(calendar_id, limits)

    def flat(self) -> dict[str, object]:
        """Dotted key -> shown value of everything the file declares (what a catalog diff compares); a holiday is a key
        of its own (`calendars.moscow.holidays.2027-01-01`, no value), so a diff lists the dates added or removed."""
        out = {"calendar": self.calendar_id, "warn_before": _shown(self.warn_before) if self.warn_before else "null"}
        for cal_id, cal in self.calendars.items():
            out[f"calendars.{cal_id}.time_zone"] = cal.time_zone
            for day, hours in enumerate(cal.week):
                if hours:
                    out[f"calendars.{cal_id}.hours.{WEEKDAYS[day]}"] = ", ".join(
                        f"{a:%H:%M}-{'24:00' if b == time(0) else format(b, '%H:%M')}" for a, b in hours)
            out.update({f"calendars.{cal_id}.holidays.{d.isoformat()}": None for d in sorted(cal.holidays)})
        for prefix, targets in [("targets", self.targets)] + [(f"topics.{k}.targets", t) for k, (_, t) in self.topics.items()]:
            for priority, limits in targets.items():
                out.update({f"{prefix}.{priority}.{name}": _shown(limit) for name, limit in limits.items()})
        out.update({f"topics.{key}.calendar": cal for key, (cal, _) in self.topics.items() if cal})
        return out

    def calendar(self, calendar_id: str) -> BusinessCalendar:
        """A calendar by id; the default one for an id a reload removed (tickets keep the id they started with)."""
        return self.calendars.get(calendar_id) or self.calendars[self.calendar_id]


def _shown(limit: timedelta) -> str:
    """A duration as the file writes it: whole hours as `4h`, else minutes (`90m`)."""
    minutes = int(limit.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def _ranges(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _clock(text: str) -> time:
    return time(0) if text == "24:00" else time.fromisoformat(text)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def check_sla(sla, src: Source, topic_keys, category_ids) -> list[ConfigError]:
    """Time zones zoneinfo knows, hour ranges that end after they start and do not overlap, a calendar with working
    hours, calendar references, override keys naming a topic or category (`topic_keys` None: categories broken)."""
    errors = []
    for cal_id, cal in sla.calendars.items():
        base = ("calendars", cal_id)
        try:
            ZoneInfo(cal.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(src.error(base + ("time_zone",), f"unknown time zone '{cal.time_zone}' (an IANA name, e.g. Europe/Moscow)"))
        for day, value in cal.hours.items():
            spans = sorted((_minutes(r.split("-")[0]), _minutes(r.split("-")[1]), r) for r in _ranges(value))
            for i, (start, end, text) in enumerate(spans):
                path = base + ("hours", day) + (() if isinstance(value, str) else (_ranges(value).index(text),))
                if end <= start:
                    errors.append(src.error(path, f"'{text}' ends before it starts"))
                elif i and start < spans[i - 1][1]:
                    errors.append(src.error(path, f"'{text}' overlaps '{spans[i - 1][2]}'"))
        if not cal.hours:
            errors.append(src.error(base + ("hours",), "no working hours: name at least one weekday"))
    known = list(sla.calendars)
    refs = [(("calendar",), sla.calendar)] + [(("topics", k, "calendar"), o.calendar) for k, o in sla.topics.items() if o.calendar]
    for path, ref in refs:
        if ref not in sla.calendars:
            errors.append(src.error(path, f"unknown calendar '{ref}'" + did_you_mean(ref, known)))
    if topic_keys is not None:
        targets = set(topic_keys) | set(category_ids)
        for key in sla.topics:
            if key not in targets:
                errors.append(src.error(("topics", key), f"unknown topic or category '{key}'" + did_you_mean(key, targets)))
    return errors


def _limits(targets) -> Mapping[str, Mapping[str, timedelta]]:
    return MappingProxyType({
        priority: MappingProxyType({name: parse_duration(getattr(spec, name)) for name in TARGETS if getattr(spec, name)})
        for priority, spec in targets.items()
    })


def build_sla(sla) -> SlaPolicy | None:
    """The policy of a checked SlaFile (None: no sla.yaml, no SLA)."""
    if sla is None:
        return None
    calendars = {
        cal_id: BusinessCalendar.of(
            cal.time_zone,
            {WEEKDAYS.index(day): tuple((_clock(r.split("-")[0]), _clock(r.split("-")[1])) for r in _ranges(value))
             for day, value in cal.hours.items()},
            cal.holidays,
        )
        for cal_id, cal in sla.calendars.items()
    }
    return SlaPolicy(
        calendars=MappingProxyType(calendars), calendar_id=sla.calendar,
        warn_before=parse_duration(sla.warn_before) if sla.warn_before else None,
        targets=_limits(sla.targets),
        topics=MappingProxyType({key: (o.calendar, _limits(o.targets)) for key, o in sla.topics.items()}),
    )

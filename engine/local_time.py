"""Times as a viewer reads them: in their time zone, with the zone named ("05.12.2026 14:05 МСК", "... (UTC+5)").

The one formatter of every time people see: the web's `local_time` filter, the Telegram bot's lists, and notification
templates (`{{ auto_close_at | local_time }}`, rendered in the recipient's zone). Stored times are aware UTC.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from jinja2 import pass_context

DEFAULT_ZONE = "UTC"
# The render context's entry with the recipient's (zone, locale): a name templates cannot write (they may not use `_`).
VIEWER = "_viewer"
# Abbreviations Russian readers know in their own letters; others show as tz data names them (CET, EST) or as an offset.
_RUSSIAN_NAMES = {"MSK": "МСК"}


def is_zone(name: object) -> bool:
    """Whether `name` is an IANA time zone this machine knows (Europe/Moscow, Asia/Yekaterinburg, UTC)."""
    return isinstance(name, str) and name in _known() and _zone(name) is not None


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name, sorted (the settings page's choices)."""
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def viewer_zone(user, policies) -> str:
    """The zone a person reads times in: their own setting, else `policies.time_zone`."""
    chosen = getattr(user, "time_zone", None)
    return chosen if chosen and is_zone(chosen) else policies.time_zone


def zone_label(moment: datetime, locale: str = "ru") -> str:
    """The zone's name at that moment: its letters (МСК, CET, CEST) or its offset in parentheses ("(UTC+5)")."""
    name = moment.tzname() or ""
    if name.isalpha():
        return _RUSSIAN_NAMES.get(name, name) if locale == "ru" else name
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"(UTC{sign}{hours}{f':{rest:02d}' if rest else ''})"


def format_time(value: datetime | str | None, zone: str | None, locale: str = "ru", date: bool = True) -> str:
    """`value` (an aware datetime, naive meaning UTC, or ISO 8601 text) in `zone`, labelled; "" for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value  # not a time: shown as it is rather than failing a whole message
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone(_zone(zone or DEFAULT_ZONE) or timezone.utc)
    shown = local.strftime("%d.%m.%Y %H:%M" if date else "%H:%M")
    return f"{shown} {zone_label(local, locale)}"


@pass_context
def local_time_filter(context, value, date: bool = True) -> str:
    """The `local_time` filter of notification templates: the recipient's zone comes from the render context."""
    zone, locale = context.get(VIEWER) or (DEFAULT_ZONE, "ru")
    return format_time(value, zone, locale, date)


def for_viewer(params: dict, zone: str, locale: str) -> dict:
    """Render params plus the recipient's zone and locale, read by the `local_time` filter."""
    return {**params, VIEWER: (zone, locale)}

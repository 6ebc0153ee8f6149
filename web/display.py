"""What lists show in every row (badges, times, SLA time left) and every reply form's file filter, as template
globals written in Python: a Jinja macro call costs several times what the function does (a queue page of 50 rows
calls them 200 times). Built with `escape` and f-strings: `Markup.format` and `%` run a Python formatter that costs
as much as the macro.

A badge, an SLA time left and a time are remembered by everything they show: the catalog version and locale (the
text), the viewer's zone and locale (the time). A reload brings a new version, so nothing needs invalidating; the
memo starts over when it holds `MAX_REMEMBERED` entries (times are unbounded)."""
from __future__ import annotations

from flask import Flask
from markupsafe import Markup, escape

from engine.catalog import Catalog
from engine.local_time import format_time
from web.context import catalog, locale, time_zone

MAX_REMEMBERED = 10_000

_shown: dict[tuple, Markup] = {}


def _remember(key: tuple, value: Markup) -> Markup:
    if len(_shown) >= MAX_REMEMBERED:
        _shown.clear()
    _shown[key] = value
    return value


def status_badge(status: str, staff: bool = False) -> Markup:
    """A ticket's status as a badge; `staff` words it as the agents read it (waiting for us / for the customer)."""
    return status_badge_in(catalog(), locale(), status, staff)


def status_badge_in(snapshot: Catalog, viewer_locale: str, status: str, staff: bool) -> Markup:
    key = ("status", snapshot.version, viewer_locale, status, staff)
    try:
        return _shown[key]
    except KeyError:
        text = snapshot.text(viewer_locale, "web", f"{'staff_status' if staff else 'status'}_{status}")
        return _remember(key, Markup(f'<span class="badge status-{escape(status)}">{escape(text)}</span>'))


def priority_badge(priority: str) -> Markup:
    return priority_badge_in(catalog(), locale(), priority)


def priority_badge_in(snapshot: Catalog, viewer_locale: str, priority: str) -> Markup:
    key = ("priority", snapshot.version, viewer_locale, priority)
    try:
        return _shown[key]
    except KeyError:
        text = snapshot.text(viewer_locale, "web", f"priority_{priority}")
        return _remember(key, Markup(f'<span class="badge priority-{escape(priority)}">{escape(text)}</span>'))


def time_tag(value) -> Markup:
    """A stored time in the viewer's time zone, labelled (engine.local_time); the attribute keeps the exact UTC
    instant. Nothing for no time."""
    return time_tag_in(value, time_zone(), locale())


def time_tag_in(value, zone: str, viewer_locale: str) -> Markup:
    if not value:
        return Markup("")
    key = (value, value.tzinfo, zone, viewer_locale)  # equal instants in other zones write another attribute
    try:
        return _shown[key]
    except KeyError:
        shown = format_time(value, zone, viewer_locale)
        return _remember(key, Markup(f'<time datetime="{escape(value.isoformat())}">{escape(shown)}</time>'))


def sla_left(left) -> Markup:
    """Business time to an SLA breach (engine.sla) as hours and minutes, or the breached badge; a dash without a running
    target."""
    return sla_left_in(catalog(), locale(), left)


def sla_left_in(snapshot: Catalog, viewer_locale: str, left) -> Markup:
    if left is None:
        return Markup("—")
    seconds = left.total_seconds()
    minutes = int(seconds // 60) if seconds > 0 else None
    key = ("sla", snapshot.version, viewer_locale, minutes)
    try:
        return _shown[key]
    except KeyError:
        if minutes is None:
            breached = snapshot.text(viewer_locale, "web", "sla_breached")
            shown = Markup(f'<span class="badge sla-breached">{escape(breached)}</span>')
        else:
            shown = escape(snapshot.text(viewer_locale, "web", "sla_left", hours=minutes // 60, minutes=minutes % 60))
        return _remember(key, shown)


def accept_types(types) -> str:
    """A file dialog's filter: MIME types as they are, bare extensions with their dot (the server checks content)."""
    return ",".join(entry if "/" in entry or entry.startswith(".") else f".{entry}" for entry in types)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(status_badge=status_badge, priority_badge=priority_badge, datetime=time_tag,
                                 sla_left=sla_left, accept_types=accept_types)

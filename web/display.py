"""What lists show in every row (badges, times, SLA time left) and every reply form's file filter, as template
globals written in Python: a Jinja macro call costs several times what the function does (a queue page of 50 rows
calls them 200 times). Built with `escape` and f-strings: `Markup.format` and `%` run a Python formatter that costs
as much as the macro."""
from __future__ import annotations

from flask import Flask
from markupsafe import Markup, escape

from web.context import local_time, t


def status_badge(status: str, staff: bool = False) -> Markup:
    """A ticket's status as a badge; `staff` words it as the agents read it (waiting for us / for the customer)."""
    text = t(f"{'staff_status' if staff else 'status'}_{status}")
    return Markup(f'<span class="badge status-{escape(status)}">{escape(text)}</span>')


def priority_badge(priority: str) -> Markup:
    return Markup(f'<span class="badge priority-{escape(priority)}">{escape(t(f"priority_{priority}"))}</span>')


def time_tag(value) -> Markup:
    """A stored time in the viewer's time zone, labelled (engine.local_time); the attribute keeps the exact UTC
    instant. Nothing for no time."""
    if not value:
        return Markup("")
    return Markup(f'<time datetime="{escape(value.isoformat())}">{escape(local_time(value))}</time>')


def sla_left(left) -> Markup:
    """Business time to an SLA breach (engine.sla) as hours and minutes, or the breached badge; a dash without a running
    target."""
    if left is None:
        return Markup("—")
    seconds = left.total_seconds()
    if seconds <= 0:
        return Markup(f'<span class="badge sla-breached">{escape(t("sla_breached"))}</span>')
    minutes = int(seconds // 60)
    return escape(t("sla_left", hours=minutes // 60, minutes=minutes % 60))


def accept_types(types) -> str:
    """A file dialog's filter: MIME types as they are, bare extensions with their dot (the server checks content)."""
    return ",".join(entry if "/" in entry or entry.startswith(".") else f".{entry}" for entry in types)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(status_badge=status_badge, priority_badge=priority_badge, datetime=time_tag,
                                 sla_left=sla_left, accept_types=accept_types)

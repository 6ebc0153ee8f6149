"""The notification types the engine raises about tickets, and the params it passes to each.

A config declares such a type in notifications/types.yaml with `source: ticket` (or leaves it out: nothing is
sent); the engine passes the params the type declares, out of those listed here. docs/REFERENCE.md is generated
from this table (scripts/gen_reference.py).
"""
from __future__ import annotations

from types import MappingProxyType

# Passed with every ticket notification.
BASE_PARAMS = MappingProxyType({
    "ticket_number": "integer: the ticket's number (#42)",
    "subject": "string: the ticket's subject",
    "topic": "string: the topic's title when the ticket was created",
    "category": "string: the category's title when the ticket was created",
})

SLA_PARAMS = MappingProxyType({
    "target": "string: first_response or resolution",
    "priority": "string: the ticket's priority (low, normal, high, urgent)",
    "due_at": "string: when the target breaches, ISO 8601 date and time (UTC)",
    "due_local": "string: the same in the SLA calendar's time zone, 'YYYY-MM-DD HH:MM' and the zone's name",
})

# type id -> (when the engine raises it, the params it passes besides BASE_PARAMS)
TICKET_NOTIFICATIONS = MappingProxyType({
    "ticket_created": ("a customer created a ticket (not on a channel that confirms tickets itself, the Telegram bot)", {}),
    "support_reply": ("a staff member replied to the ticket", {"reply": "string: the reply's text"}),
    "ticket_archived": ("a staff member archived the ticket (a customer closing it gets the channel's own confirmation)",
                        {"reason": "string: the reason the staff member gave (may be empty)"}),
    "ticket_auto_closed": ("the ticket waited for the customer longer than policies.auto_close.after and was archived", {}),
    "auto_close_reminder": ("policies.auto_close.reminder_before before the auto-close",
                            {"auto_close_at": "string: when the ticket will close, ISO 8601 date and time (UTC)"}),
    "sla_warning": ("to staff: an SLA target of the ticket breaches within sla.yaml's warn_before (business time)", SLA_PARAMS),
    "sla_breach": ("to staff: an SLA target of the ticket was not met in time", SLA_PARAMS),
})
# Sent to staff only: the customers' settings matrix does not offer them.
STAFF_NOTIFICATIONS = frozenset({"sla_warning", "sla_breach"})


def base_params(ticket) -> dict:
    """BASE_PARAMS of a ticket (titles from its snapshot: they survive the topic's removal)."""
    return {"ticket_number": ticket.number, "subject": ticket.subject, "topic": ticket.snapshot.get("topic_title", ""),
            "category": ticket.snapshot.get("category_title", "")}


def params_of(type_id: str) -> dict[str, str]:
    """Every param the engine passes with `type_id` (KeyError for a type it never raises)."""
    return {**BASE_PARAMS, **TICKET_NOTIFICATIONS[type_id][1]}

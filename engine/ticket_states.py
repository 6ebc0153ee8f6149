"""The ticket lifecycle as data: which action moves which status where; everything else is refused."""
from __future__ import annotations

from engine.catalog import Catalog
from engine.errors import TransitionRefused

NEW = "new"
WAITING_SUPPORT = "waiting_support"
WAITING_CUSTOMER = "waiting_customer"
ARCHIVED = "archived"
STATUSES = (NEW, WAITING_SUPPORT, WAITING_CUSTOMER, ARCHIVED)
ACTIVE_STATUSES = (NEW, WAITING_SUPPORT, WAITING_CUSTOMER)
PRIORITIES = ("low", "normal", "high", "urgent")

# (status, action) -> next status. A customer adding to a ticket nobody has looked at keeps it new.
TRANSITIONS: dict[tuple[str, str], str] = {
    (NEW, "take"): WAITING_SUPPORT,
    (NEW, "customer_reply"): NEW,
    (WAITING_SUPPORT, "customer_reply"): WAITING_SUPPORT,
    (WAITING_CUSTOMER, "customer_reply"): WAITING_SUPPORT,
    (NEW, "staff_reply"): WAITING_CUSTOMER,
    (WAITING_SUPPORT, "staff_reply"): WAITING_CUSTOMER,
    (WAITING_CUSTOMER, "staff_reply"): WAITING_CUSTOMER,
    (NEW, "archive"): ARCHIVED,
    (WAITING_SUPPORT, "archive"): ARCHIVED,
    (WAITING_CUSTOMER, "archive"): ARCHIVED,
    (WAITING_CUSTOMER, "auto_close"): ARCHIVED,
}
ACTIONS = frozenset(action for _, action in TRANSITIONS)


def next_status(catalog: Catalog, status: str, action: str, locale: str) -> str:
    """The status `action` leads to from `status`; raises TransitionRefused with a localized message."""
    if action not in ACTIONS:
        raise ValueError(f"unknown ticket action {action!r}")
    target = TRANSITIONS.get((status, action))
    if target is None:
        key = "ticket_archived" if status == ARCHIVED else "transition_refused"
        raise TransitionRefused(catalog.text(locale, "validation", key), code=key)
    return target

"""Keyset pages: every row once, in order, both ways, with ties in the sort key, per filter; totals and positions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine import notify, tickets
from engine.store.models import Notification, Ticket
from engine.ticket_states import ACTIVE_STATUSES, PRIORITIES, STATUSES

pytestmark = pytest.mark.postgres  # row-value comparisons and the united streams are SQL that differs by database

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
CATEGORIES = ("hosting", "billing")


def make_tickets(customer, count: int) -> list[Ticket]:
    """Tickets of every status, priority and category; three share each updated_at (ties broken by id)."""
    rows = []
    for i in range(count):
        status, priority = STATUSES[i % len(STATUSES)], PRIORITIES[(i // 2) % len(PRIORITIES)]
        at = T0 + timedelta(minutes=i // 3)
        rows.append({"number": 5000 + i, "customer": customer, "category_id": CATEGORIES[i % 2], "topic_id": f"t{i % 3}",
                     "priority": priority, "status": status, "subject": f"s{i}", "channel": "web",
                     "updated_at": at, "created_at": at, "closed_at": at if status == "archived" else None})
    Ticket.insert_many(rows).execute()
    return list(Ticket.select().where(Ticket.customer == customer))


def walk(fetch, size: int):
    """All pages forward (after=next), then backward from the last (before=previous): ids per page each way."""
    forward, page = [], fetch(size=size)
    while True:
        forward.append(page)
        if page.next is None:
            break
        page = fetch(after=page.next, size=size)
    backward = [forward[-1]]
    while backward[-1].previous is not None:
        backward.append(fetch(before=backward[-1].previous, size=size))
    return forward, backward[::-1]


def check(pages_forward, pages_backward, expected_ids, size):
    assert [[t.id for t in p.rows] for p in pages_forward] == [expected_ids[i:i + size] for i in range(0, len(expected_ids), size)]
    assert [[t.id for t in p.rows] for p in pages_backward] == [[t.id for t in p.rows] for p in pages_forward]
    for n, page in enumerate(pages_forward):
        assert (page.first, page.last, page.total) == (n * size + 1, min((n + 1) * size, len(expected_ids)), len(expected_ids))
    assert pages_backward[0].previous is None and pages_backward[0].first == 1


def test_my_tickets_and_archive_walk_every_row_once_in_order(rt, customer, other_customer):
    rows = make_tickets(customer, 40)
    Ticket.insert(number=9999, customer=other_customer, category_id="x", topic_id="y", priority="low", status="new",
                  subject="not mine", channel="web").execute()
    active = sorted((t for t in rows if t.status in ACTIVE_STATUSES), key=lambda t: (t.updated_at, t.id), reverse=True)
    archived = sorted((t for t in rows if t.status == "archived"), key=lambda t: (t.closed_at, t.id), reverse=True)
    for flag, expected in ((True, active), (False, archived)):
        forward, backward = walk(lambda **kw: tickets.customer_ticket_page(customer, active=flag, **kw), size=7)
        check(forward, backward, [t.id for t in expected], 7)


@pytest.mark.parametrize("status_set, category", [
    (("new", "waiting_support"), ""), (ACTIVE_STATUSES, ""), (("archived",), ""), (("new", "waiting_support"), "billing"),
])
def test_the_queue_pages_by_urgency_then_age_for_every_filter(rt, customer, agent, status_set, category):
    rows = make_tickets(customer, 60)
    urgency = {p: i for i, p in enumerate(reversed(PRIORITIES))}
    expected = sorted((t for t in rows if t.status in status_set and (not category or t.category_id == category)),
                      key=lambda t: (urgency[t.priority], t.updated_at, t.id))
    forward, backward = walk(lambda **kw: tickets.staff_ticket_page(agent, status_set, category, **kw), size=4)
    check(forward, backward, [t.id for t in expected], 4)
    assert all(t.customer.name == customer.name for p in forward for t in p.rows)  # joined, not fetched per row


def test_a_mangled_cursor_shows_the_first_page_and_an_empty_list_has_no_links(rt, customer, agent):
    make_tickets(customer, 12)
    first = tickets.staff_ticket_page(agent, ACTIVE_STATUSES, size=5)
    for junk in ("garbage", "e30", first.next[:-3]):
        assert [t.id for t in tickets.staff_ticket_page(agent, ACTIVE_STATUSES, after=junk, size=5).rows] == \
            [t.id for t in first.rows]
    empty = tickets.staff_ticket_page(agent, ACTIVE_STATUSES, category_id="none")
    assert (empty.rows, empty.total, empty.first, empty.next, empty.previous) == ([], 0, 0, None, None)


def test_notifications_page_newest_first_and_the_unread_count(rt, customer, other_customer):
    Notification.insert_many([{"user": customer, "type_id": "t", "read_at": None if i % 4 else T0} for i in range(23)]
                             + [{"user": other_customer, "type_id": "t"}]).execute()
    Notification.insert(user=customer, type_id="t", in_app=False).execute()  # not in the list
    expected = [n.id for n in Notification.select().where((Notification.user == customer) & Notification.in_app)
                .order_by(Notification.id.desc())]
    forward, backward = walk(lambda **kw: notify.user_notification_page(customer, **kw), size=10)
    check(forward, backward, expected, 10)
    assert notify.unread_count(customer) == 17 and notify.unread_count(other_customer) == 1

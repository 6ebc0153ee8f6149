"""The agent console with the Twin SLA: the queue sorted by time to breach (the default) showing the business time
left, and the ticket page listing each target's state."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest

from engine import tickets
from tests.web.helpers import make_ticket

MONDAY_10_MSK = datetime(2027, 3, 15, 7, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock(rt):
    """The Twin calendar's Monday 15 March 2027; tests move `clock.now`."""
    class Clock:
        now = MONDAY_10_MSK

        def __call__(self):
            return self.now

    rt.clock = Clock()
    return rt.clock


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _numbers(page: str) -> list[int]:
    return [int(n) for n in dict.fromkeys(re.findall(r'href="/agent/tickets/(\d+)"', page))]


def test_queue_sorts_by_time_to_breach_by_default_and_shows_it(rt, clock, as_role, users):
    """Normal priority: first response within 4 business hours. Created 10:00, 09:40 (Monday) and on Friday evening
    (counted from Monday 09:00): the Friday one breaches first, then 09:40's, then 10:00's."""
    ten = make_ticket(rt, users["customer"], subject="в десять")
    clock.now = datetime(2027, 3, 15, 6, 40, tzinfo=timezone.utc)
    twenty_to_ten = make_ticket(rt, users["customer"], subject="без двадцати")
    clock.now = datetime(2027, 3, 12, 17, 0, tzinfo=timezone.utc)
    friday = make_ticket(rt, users["customer"], subject="в пятницу вечером")
    clock.now = datetime(2027, 3, 15, 10, 30, tzinfo=timezone.utc)  # 13:30 Moscow

    page = _text(as_role("agent").get("/agent/"))
    assert _numbers(page) == [friday.number, twenty_to_ten.number, ten.number]
    assert '<option value="breach" selected>По сроку SLA</option>' in page
    cells = re.findall(r'<td class="sla-left">(.*?)</td>', page, re.S)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in cells] == ["SLA нарушен", "0 ч 10 мин", "0 ч 30 мин"]

    by_priority = _text(as_role("agent").get("/agent/?sort=priority"))
    assert _numbers(by_priority) == [friday.number, twenty_to_ten.number, ten.number]  # one priority: oldest first
    assert '<option value="priority" selected>' in by_priority
    assert as_role("agent").get("/agent/?sort=nope").status_code == 400


def test_ticket_page_shows_each_target_and_its_state(rt, clock, as_role, users):
    ticket = make_ticket(rt, users["customer"])
    clock.now = datetime(2027, 3, 15, 8, 0, tzinfo=timezone.utc)  # 11:00 Moscow: the agent answers
    tickets.add_reply(rt, ticket, users["agent"], "Смотрим", [], "web")
    page = _text(as_role("agent").get(f"/agent/tickets/{ticket.number}"))
    section = page.split('<section class="card" id="sla">', 1)[1].split("</section>", 1)[0]
    assert "Первый ответ" in section and "Выполнен 15.03.2027 11:00 (Europe/Moscow)" in section
    assert "Решение" in section and "На паузе, пока ждём клиента: осталось 26 ч 0 мин" in section
    customer_page = _text(as_role("customer").get(f"/tickets/{ticket.number}"))
    assert 'id="sla"' not in customer_page and "SLA" not in customer_page


def test_only_staff_settings_offer_the_sla_types(as_role):
    assert "SLA нарушен" in _text(as_role("agent").get("/settings"))
    customer = _text(as_role("customer").get("/settings"))
    assert "SLA нарушен" not in customer and "sla_breach" not in customer

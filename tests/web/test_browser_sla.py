"""In Chromium: an agent works the queue sorted by time to breach (the default with the Twin SLA), sees the business
time left per row, switches to the priority order through htmx, opens the most urgent ticket's SLA card and answers
with a canned reply, which meets its first-response target."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from engine import tickets
from tests.web.helpers import make_ticket
from tests.web.test_browser import shot, sign_in  # noqa: F401 (fixture)
from tests.web.test_sla_pages import clock  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def test_agent_works_the_queue_by_time_to_breach(rt, clock, sign_in, users):  # noqa: F811
    make_ticket(rt, users["customer"], subject="Создан в понедельник")  # first response due 14:00
    clock.now = datetime(2027, 3, 12, 17, 0, tzinfo=timezone.utc)  # Friday 20:00: counted from Monday 09:00
    friday = make_ticket(rt, users["customer"], subject="Создан в пятницу")  # due Monday 13:00
    clock.now = datetime(2027, 3, 15, 7, 30, tzinfo=timezone.utc)  # 10:30: the customer adds a detail (no SLA change)
    tickets.add_reply(rt, friday, users["customer"], "Забыл приложить ID", [], "web")
    clock.now = datetime(2027, 3, 15, 9, 45, tzinfo=timezone.utc)  # 12:45 Moscow

    agent = sign_in(users["agent"].email)
    agent.goto("/agent/")
    rows = agent.locator("#queue tbody tr")
    expect(agent.get_by_label("Сортировка")).to_have_value("breach")
    expect(rows.nth(0)).to_contain_text("Создан в пятницу")
    expect(rows.nth(0).locator(".sla-left")).to_have_text("0 ч 15 мин")
    expect(rows.nth(1)).to_contain_text("Создан в понедельник")
    expect(rows.nth(1).locator(".sla-left")).to_have_text("1 ч 15 мин")
    shot(agent, "sla-01-queue-by-breach")

    agent.get_by_label("Сортировка").select_option("priority")  # htmx swaps the table: least recently updated first
    expect(rows.nth(0)).to_contain_text("Создан в понедельник")
    expect(agent).to_have_url(re.compile(r"[?&]sort=priority"))

    agent.get_by_label("Сортировка").select_option("breach")
    expect(rows.nth(0)).to_contain_text("Создан в пятницу")
    rows.nth(0).get_by_role("link", name="Создан в пятницу").click()
    card = agent.locator("#sla")
    expect(card).to_contain_text("Первый ответ")
    expect(card).to_contain_text("Срок: 15.03.2027 13:00 (Europe/Moscow), осталось 0 ч 15 мин рабочего времени")
    expect(card).to_contain_text("Решение")

    agent.get_by_role("button", name="Вставить: Приветствие, заявка принята в работу").click()
    expect(agent.get_by_label("Сообщение")).to_contain_text(f"Заявка №{friday.number} «Создан в пятницу» принята в работу")
    agent.get_by_role("button", name="Отправить").click()
    expect(agent.locator(".message-agent").last).to_contain_text("Здравствуйте")
    agent.reload()
    expect(agent.locator("#sla")).to_contain_text("Выполнен 15.03.2027 12:45 (Europe/Moscow)")
    shot(agent, "sla-02-first-response-met")

"""In Chromium: an agent inserts a canned reply with one click, edits it and sends it; adds an internal note the
customer never sees."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.helpers import make_ticket
from tests.web.test_browser import shot, sign_in  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def test_agent_inserts_edits_and_sends_a_canned_reply(rt, sign_in, users):  # noqa: F811
    ticket = make_ticket(rt, users["customer"])
    agent = sign_in(users["agent"].email)
    agent.goto(f"/agent/tickets/{ticket.number}")
    box = agent.get_by_label("Сообщение")
    box.fill("Добрый день.")
    agent.get_by_role("button", name="Вставить: Приветствие, заявка принята в работу").click()
    box = agent.get_by_label("Сообщение")  # the box was swapped for the filled-in one
    expect(box).to_have_value(f"Добрый день.\n\nЗдравствуйте, Анна!\n\nСпасибо за обращение. Заявка №{ticket.number} "
                              "«Бот молчит» принята в работу, мы вернёмся с ответом в ближайшее время.\n\n"
                              "С уважением, Агент, служба поддержки Twin")
    shot(agent, "staff-01-canned-inserted")

    # Edit the inserted text in place, then send it.
    box.press("Control+End")
    box.press_sequentially(" (ответ до 18:00)", delay=5)
    agent.get_by_role("button", name="Отправить").click()
    sent = agent.locator(".message-agent").last
    expect(sent).to_contain_text("Здравствуйте, Анна!")
    expect(sent).to_contain_text("служба поддержки Twin (ответ до 18:00)")
    expect(agent.get_by_label("Сообщение")).to_have_value("")

    # An internal note: marked as such for staff, absent for the customer.
    agent.get_by_label("Заметка (видна только сотрудникам)").fill("Клиент из VIP-списка, ответить до вечера")
    agent.get_by_role("button", name="Добавить заметку").click()
    note = agent.locator(".message-internal")
    expect(note).to_contain_text("Внутренняя заметка")
    expect(note).to_contain_text("Клиент из VIP-списка")
    shot(agent, "staff-02-note")

    customer = sign_in(users["customer"].email)
    customer.goto(f"/tickets/{ticket.number}")
    expect(customer.locator(".message-agent")).to_contain_text("(ответ до 18:00)")
    expect(customer.locator("#conversation")).not_to_contain_text("VIP-списка")

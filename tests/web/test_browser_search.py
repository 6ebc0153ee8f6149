"""In Chromium: an agent types into the search box and the results follow (htmx), hits marked, a filter applied,
times in the agent's zone."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine import notes
from tests.web.helpers import make_ticket
from tests.web.test_browser import shot, sign_in  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def test_agent_finds_a_ticket_by_a_word_of_an_internal_note(rt, sign_in, users):  # noqa: F811
    ticket = make_ticket(rt, users["customer"], subject="Бот <i>молчит</i>")
    notes.add_note(rt, ticket, users["agent"], "Клиент просил перезвонить после обеда", "web")
    make_ticket(rt, users["other"], subject="Не приходят уведомления")
    agent = sign_in(users["agent"].email)
    agent.goto("/agent/")
    agent.get_by_role("link", name="Поиск").click()
    agent.get_by_label("Что найти").press_sequentially("перезвонит", delay=10)
    row = agent.locator(".search-results tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("mark")).to_have_text("перезвонить")
    expect(row).to_contain_text("Бот <i>молчит</i>")  # the subject as text, never as markup
    expect(row.locator("time")).to_contain_text("МСК")
    assert "q=" in agent.url  # the search is in the address, so it can be shared or reloaded
    shot(agent, "search-01-found")
    agent.get_by_label("Статус").select_option("archived")
    expect(agent.locator("#results")).to_contain_text("Ничего не найдено.")

"""What the portal keeps between requests to save work (web/form_cache.py, csrf_tokens.py, urls.py, pending.py's
session mark, display.py's badges) never shows anyone something stale: a reload, another locale, typed values and
kept files."""
from __future__ import annotations

import io
import re

from tests.web.helpers import PNG, TOPIC_URL, chat_problem, make_ticket

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def test_the_remembered_empty_form_follows_a_catalog_reload(as_role, rt, config_dir):
    client = as_role("customer")
    assert "Идентификатор чата" in client.get(TOPIC_URL).get_data(as_text=True)
    form = config_dir / "forms" / "chat-problem.yaml"
    form.write_text(form.read_text(encoding="utf-8").replace("Идентификатор чата", "Номер диалога"), encoding="utf-8")
    assert rt.catalogs.reload()
    body = client.get(TOPIC_URL).get_data(as_text=True)
    assert "Номер диалога" in body and "Идентификатор чата" not in body


def test_the_remembered_badges_and_sla_texts_of_the_lists_follow_a_catalog_reload(rt, as_role, users, config_dir):
    make_ticket(rt, users["customer"])
    customer, agent = as_role("customer"), as_role("agent")
    assert ">Новый</span>" in customer.get("/tickets").get_data(as_text=True)
    queue = agent.get("/agent/?status=all").get_data(as_text=True)
    assert ">Новый</span>" in queue and ">Обычный</span>" in queue and " ч " in queue
    (config_dir / "ui").mkdir()
    (config_dir / "ui" / "ru.yaml").write_text(
        "locale: ru\nweb:\n  status_new: Свежий\n  staff_status_new: Свежий у нас\n  priority_normal: Средний\n"
        "  sla_left: \"{hours} час. {minutes} мин.\"\n", encoding="utf-8")
    assert rt.catalogs.reload()
    assert ">Свежий</span>" in customer.get("/tickets").get_data(as_text=True)
    queue = agent.get("/agent/?status=all").get_data(as_text=True)
    assert ">Свежий у нас</span>" in queue and ">Средний</span>" in queue and " час. " in queue
    assert ">Новый<" not in queue


def test_the_remembered_queue_filters_follow_the_choice_a_catalog_reload_and_the_locale(rt, as_role, config_dir):
    agent = as_role("agent")
    page = agent.get("/agent/?status=all").get_data(as_text=True)
    assert '<option value="all" selected>Все открытые</option>' in page
    page = agent.get("/agent/?status=new&category=chats").get_data(as_text=True)
    assert '<option value="new" selected>' in page and '<option value="chats" selected>' in page
    assert 'id="filter-topic"' in page and '<option value="all" selected>Все' not in page
    (config_dir / "ui").mkdir()
    (config_dir / "ui" / "ru.yaml").write_text("locale: ru\nweb:\n  filter_status_all: Любые открытые\n", encoding="utf-8")
    assert rt.catalogs.reload()
    assert '<option value="all" selected>Любые открытые</option>' in agent.get("/agent/?status=all").get_data(as_text=True)
    agent.post("/locale", {"locale": "en", "next": "/agent/"})
    assert '<option value="all" selected>All open</option>' in agent.get("/agent/?status=all").get_data(as_text=True)


def test_the_remembered_empty_form_follows_the_locale(as_role):
    client = as_role("customer")
    assert "Где найти?" in client.get(TOPIC_URL).get_data(as_text=True)
    client.post("/locale", {"locale": "en", "next": TOPIC_URL})
    body = client.get(TOPIC_URL).get_data(as_text=True)
    assert "Where to find it?" in body and "Где найти?" not in body


def test_a_form_sent_back_shows_its_values_and_errors_then_the_empty_form_is_empty_again(as_role):
    client = as_role("customer")
    client.get(TOPIC_URL)
    response = client.post(TOPIC_URL, chat_problem(account_id="12a", chat_id="chat-77"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="chat-77"' in body and 'aria-invalid="true"' in body
    body = client.get(TOPIC_URL).get_data(as_text=True)
    assert 'value="chat-77"' not in body and 'aria-invalid="true"' not in body


def test_a_browser_that_never_kept_files_does_not_ask_redis_for_them(as_role, rt, monkeypatch):
    client = as_role("customer")
    asked = []
    real = rt.redis.hgetall
    monkeypatch.setattr(rt.redis, "hgetall", lambda key: asked.append(key) or real(key))
    client.get(TOPIC_URL)
    assert client.post(TOPIC_URL, chat_problem()).status_code == 303
    assert asked == []
    data = {**chat_problem(account_id="12a"), "attachments": [(io.BytesIO(PNG), "screen.png")]}
    page = client.post(TOPIC_URL, data, content_type="multipart/form-data").get_data(as_text=True)
    assert "screen.png" in page.split("kept-files")[1]
    assert "screen.png" in client.get(TOPIC_URL).get_data(as_text=True)  # now it asks, and finds the kept file
    assert asked


def test_the_embedded_csrf_token_is_reused_per_session_and_still_accepted(as_role):
    customer, other = as_role("customer"), as_role("agent")
    first = CSRF_RE.search(customer.get(TOPIC_URL).get_data(as_text=True)).group(1)
    again = CSRF_RE.search(customer.get("/").get_data(as_text=True)).group(1)
    assert first == again
    assert CSRF_RE.search(other.get("/agent/").get_data(as_text=True)).group(1) != first
    response = customer.post(TOPIC_URL, {**chat_problem(), "_csrf": first}, csrf=False)
    assert response.status_code == 303

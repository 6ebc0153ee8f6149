"""The lists' cached part (web/list_cache.py): a write, in this process or another, shows at once; no viewer sees
another's list; every filter keeps its own entry; without a live eviction subscription nothing stale is served."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from benchmarks.statements import recording
from engine import assignment, live_cache, tickets
from engine.live_cache import EVERYTHING
from engine.store.models import Ticket, User
from web import list_cache
from tests.waiting import wait_for
from tests.web.helpers import make_ticket

ROOT = Path(__file__).resolve().parents[2]
HX = {"HX-Request": "true"}
# Another process renames a ticket through the store, on the same database and Redis (its write announces itself).
RENAME_TICKET = """
import sys
from redis import Redis
from engine import live_cache
from engine.settings import Settings
from engine.store.db import init_database
from engine.store.models import Ticket
data_dir, database_url, redis_socket, ticket_id = sys.argv[1:]
init_database(Settings(data_dir=__import__("pathlib").Path(data_dir), database_url=database_url))
live_cache.publish_with(Redis(unix_socket_path=redis_socket))
Ticket.update(subject="Переименован в другом процессе").where(Ticket.id == int(ticket_id)).execute()
"""


@pytest.fixture
def live(rt, app, monkeypatch):
    """The app's cache live, its entries kept until evicted (no TTL to hide a missed eviction), and live on a busy
    machine whose follower thread answers late (a lost subscription still ends it)."""
    monkeypatch.setattr(rt.cache, "ttl", 3600.0)
    monkeypatch.setattr(live_cache, "STALE_AFTER", 3600.0)
    wait_for(lambda: rt.cache.live, message="the eviction subscription")
    return rt.cache


def body(client, url: str, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def served_from_cache(rt, client, url: str) -> bool:
    """Whether showing `url` read no ticket (the list came from the cache)."""
    with recording(rt.db) as statements:
        body(client, url)
    return not any('FROM "ticket"' in sql for sql, _ in statements)


def test_writes_through_the_engine_show_in_the_lists_at_once(rt, live, as_role, users):
    customer, agent = as_role("customer"), as_role("agent")
    first = make_ticket(rt, users["customer"], subject="Первое обращение")
    assert "Первое обращение" in body(customer, "/tickets") and served_from_cache(rt, customer, "/tickets")
    assert "Анна" in body(agent, "/agent/?status=all") and served_from_cache(rt, agent, "/agent/?status=all")
    body(customer, "/tickets/archive")

    second = make_ticket(rt, users["customer"], subject="Второе обращение")  # a new ticket
    assert "Второе обращение" in body(customer, "/tickets")
    assert f"#{second.number}" in body(agent, "/agent/?status=all")

    assignment.assign_ticket(rt, first, users["agent"], users["admin"])  # a reassignment
    assert "Админ" in body(agent, "/agent/?status=all")

    anna = User.get_by_id(users["customer"].id)
    anna.name = "Анна Петровна"  # a customer renamed
    anna.save()
    assert "Анна Петровна" in body(agent, "/agent/?status=all")

    tickets.archive_ticket(rt, first, users["customer"])  # a status change
    assert f"#{first.number}" not in body(customer, "/tickets")
    assert f"#{first.number}" in body(customer, "/tickets/archive")


def test_a_write_in_another_process_evicts_the_list_here(rt, live, as_role, users):
    ticket = make_ticket(rt, users["customer"], subject="Старая тема")
    customer = as_role("customer")
    assert "Старая тема" in body(customer, "/tickets") and served_from_cache(rt, customer, "/tickets")

    socket = rt.redis.connection_pool.connection_kwargs["path"]
    subprocess.run([sys.executable, "-c", RENAME_TICKET, str(rt.settings.data_dir), rt.settings.database_url, socket,
                    str(ticket.id)], cwd=ROOT, check=True, capture_output=True)
    wait_for(lambda: "Переименован в другом процессе" in body(customer, "/tickets"),
             message="the eviction from the other process")


def test_a_customer_never_sees_another_customers_cached_list(rt, live, as_role, users):
    make_ticket(rt, users["customer"], subject="Тикет Анны")
    make_ticket(rt, users["other"], subject="Тикет Бориса")
    anna, boris = as_role("customer"), as_role("other")
    for _ in range(2):  # the second round from the cache
        assert "Тикет Анны" in body(anna, "/tickets") and "Тикет Бориса" not in body(anna, "/tickets")
        assert "Тикет Бориса" in body(boris, "/tickets") and "Тикет Анны" not in body(boris, "/tickets")
    assert served_from_cache(rt, boris, "/tickets")


def test_every_queue_filter_and_agent_keeps_its_own_entry(rt, live, as_role, users):
    mine = make_ticket(rt, users["customer"], subject="Взял агент")
    make_ticket(rt, users["customer"], subject="Ничей")
    assignment.take_ticket(rt, mine, users["agent"])
    agent, admin = as_role("agent"), as_role("admin")
    urls = ["/agent/", "/agent/?status=all", "/agent/?status=all&assignee=me", "/agent/?status=all&assignee=nobody",
            "/agent/?status=all&sort=priority", "/agent/?status=all&category=chats",
            "/agent/?status=all&category=chats&topic=incident", "/agent/?status=archived", "/agent/?team=all"]
    clients = {"agent": agent, "admin": admin}
    tables = {}
    for who, client in clients.items():
        for url in urls:
            for _ in range(2):  # the second time from the cache
                page, table = body(client, url), body(client, url, headers=HX)
            assert table in page
            tables[who, url] = table
    rt.cache.close()  # from here on every request renders
    for (who, url), table in tables.items():
        assert table == body(clients[who], url, headers=HX), (who, url)
    assert "Взял агент" in body(agent, "/agent/?status=all&assignee=me", headers=HX)
    assert "Взял агент" not in body(admin, "/agent/?status=all&assignee=me", headers=HX)
    assert "Ничей" in tables["admin", "/agent/?status=all&assignee=nobody"]


def test_the_queue_time_left_follows_the_clock(rt, live, as_role, users, monkeypatch):
    make_ticket(rt, users["customer"])
    agent = as_role("agent")
    now = Ticket.get().sla_due_at - timedelta(hours=1)  # within business hours: the time left runs
    monkeypatch.setattr(rt, "clock", lambda: now)
    before = body(agent, "/agent/?status=all", headers=HX)
    assert before == body(agent, "/agent/?status=all", headers=HX)  # the same minute: from the cache
    now += timedelta(minutes=30)
    after = body(agent, "/agent/?status=all", headers=HX)
    assert after != before and after == before.replace("1 ч 0 мин", "0 ч 30 мин")


def test_without_a_live_subscription_the_lists_read_the_database(rt, app, as_role, users, monkeypatch):
    ticket = make_ticket(rt, users["customer"], subject="До правки")
    customer = as_role("customer")
    rt.cache.close()
    assert "До правки" in body(customer, "/tickets")
    monkeypatch.setattr(live_cache, "changed", lambda *tags: None)  # a write whose eviction is lost
    Ticket.update(subject="После правки").where(Ticket.id == ticket.id).execute()
    assert "После правки" in body(customer, "/tickets") and not served_from_cache(rt, customer, "/tickets")


def test_a_process_keeps_a_bounded_number_of_lists(rt, live, as_role, users, monkeypatch):
    make_ticket(rt, users["customer"])
    customer = as_role("customer")
    monkeypatch.setattr(list_cache, "MAX_STORED", 2)
    monkeypatch.setattr(list_cache, "_stored", [0])
    body(customer, "/tickets")
    assert served_from_cache(rt, customer, "/tickets")
    body(customer, "/tickets?after=a"), body(customer, "/tickets?after=b")  # mangled cursors: keys of their own
    assert not served_from_cache(rt, customer, "/tickets")  # the third entry dropped the others

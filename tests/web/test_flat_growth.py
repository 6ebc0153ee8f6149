"""No page issues a query per row: statements per page counted at two data sizes (benchmarks/grow_data.py)."""
from __future__ import annotations

import pytest

from benchmarks.grow_data import Scale, grow
from benchmarks.statements import recording
from engine.live_cache import EVERYTHING
from engine.store.models import Message, Ticket

pytestmark = pytest.mark.postgres  # the keyset row values and the partial index differ by database: run on both

SMALL = Scale(customers=2, tickets=5, messages=10, demo_tickets=5, long_conversation=5, failed_deliveries=3)
LISTS = Scale(customers=3, tickets=130, messages=260, demo_tickets=130, long_conversation=2, failed_deliveries=2)
LARGE = Scale(customers=6, tickets=70, messages=500, demo_tickets=70, long_conversation=70, failed_deliveries=70)


def pages(long_ticket: Ticket) -> dict[str, tuple[str, str, dict]]:
    n, hx = long_ticket.number, {"HX-Request": "true"}
    last = Message.select(Message.id).where(Message.ticket == long_ticket).order_by(Message.id.desc()).scalar()
    category, topic = long_ticket.category_id, long_ticket.topic_id
    return {
        "my tickets": ("customer", "/tickets", {}),
        "archive": ("customer", "/tickets/archive", {}),
        "ticket": ("customer", f"/tickets/{n}", {}),
        "ticket, earlier messages": ("customer", f"/tickets/{n}/messages/earlier?before={last}", hx),
        "poll, nothing new": ("customer", f"/tickets/{n}/messages?after={last}", hx),
        "poll with news": ("customer", f"/tickets/{n}/messages?after={last - 3}", hx),
        "notifications": ("customer", "/notifications", {}),
        "badge": ("customer", "/notifications/badge", {}),
        "agent ticket": ("agent", f"/agent/tickets/{n}", {}),
        "queue": ("agent", "/agent/", {}),
        "queue, all open": ("agent", "/agent/?status=all", {}),
        "queue, archived": ("agent", "/agent/?status=archived", {}),
        "queue, category and topic": ("agent", f"/agent/?status=open&category={category}&topic={topic}", hx),
        "admin": ("admin", "/admin/", {}),
    }


def statement_counts(rt, clients, long_number: int) -> dict[str, int]:
    counts = {}
    for name, (role, url, headers) in pages(Ticket.get(Ticket.number == long_number)).items():
        assert clients[role].get(url, headers=headers).status_code in (200, 204), url  # warm: one-time lookups done
        rt.cache.evict([EVERYTHING])  # counted on a cold cache: a cached list or session would hide its statements
        with recording(rt.db) as statements:
            response = clients[role].get(url, headers=headers)
        assert response.status_code in (200, 204), url
        counts[name] = len(statements)
    return counts


def test_statements_per_page_do_not_grow_with_the_data(rt, as_role, users):
    clients = {role: as_role(role) for role in ("customer", "agent", "admin")}
    small = grow(rt.db, rt.catalog, users["customer"], users["agent"], SMALL, seed=1)
    before = statement_counts(rt, clients, small["long_ticket"])
    large = grow(rt.db, rt.catalog, users["customer"], users["agent"], LARGE, seed=2)
    after = statement_counts(rt, clients, large["long_ticket"])
    grown = {page: (before[page], after[page]) for page in before if after[page] > before[page]}
    assert not grown, f"statements per page grew with the data (small, large): {grown}"
    assert max(after.values()) <= 12, after


def test_lists_show_a_page_with_its_total_and_walk_both_ways(rt, as_role, users):
    grow(rt.db, rt.catalog, users["customer"], users["agent"], LISTS, seed=3)
    customer = as_role("customer")
    active = Ticket.select().where((Ticket.customer == users["customer"]) & (Ticket.status != "archived")).count()
    first = customer.get("/tickets").get_data(as_text=True)
    assert f"Показано 1–50 из {active}" in first and 'rel="prev"' not in first
    next_url = first.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = customer.get(next_url).get_data(as_text=True)
    assert f"Показано 51–{active} из {active}" in second and 'rel="next"' not in second
    previous_url = second.split('rel="prev" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "Показано 1–50 из" in customer.get(previous_url).get_data(as_text=True)
    assert "Показано 1–50 из" in customer.get("/tickets?after=garbage").get_data(as_text=True)  # a mangled cursor


def test_a_long_conversation_shows_its_latest_messages_and_loads_earlier_ones(rt, as_role, users):
    added = grow(rt.db, rt.catalog, users["customer"], users["agent"], LARGE, seed=4)
    customer = as_role("customer")
    page = customer.get(f"/tickets/{added['long_ticket']}").get_data(as_text=True)
    assert "Сообщение 70 по" in page and "Сообщение 41 по" in page and "Сообщение 40 по" not in page
    earlier_url = page.split('<li class="earlier"><a href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    earlier = customer.get(earlier_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Сообщение 40 по" in earlier and "Сообщение 11 по" in earlier and "Сообщение 41 по" not in earlier
    assert 'class="earlier"' in earlier  # ten more before those
    without_js = customer.get(earlier_url).get_data(as_text=True)  # no htmx: the ticket page showing that stretch
    assert "Сообщение 40 по" in without_js and 'id="conversation-poll"' not in without_js


def test_a_poll_with_news_appends_only_the_new_messages(rt, as_role, users):
    added = grow(rt.db, rt.catalog, users["customer"], users["agent"], SMALL, seed=5)
    ticket = Ticket.get(Ticket.number == added["long_ticket"])
    last = Message.select(Message.id).where(Message.ticket == ticket).order_by(Message.id.desc()).scalar()
    customer = as_role("customer")
    as_role("agent").post(f"/agent/tickets/{ticket.number}/reply", {"message": "Свежий ответ"})
    news = customer.get(f"/tickets/{ticket.number}/messages?after={last}", headers={"HX-Request": "true"})
    body = news.get_data(as_text=True)
    assert news.status_code == 200 and "Свежий ответ" in body and "Сообщение 5 по" not in body
    assert 'hx-swap-oob="beforeend:#messages"' in body and f"after={last}" not in body

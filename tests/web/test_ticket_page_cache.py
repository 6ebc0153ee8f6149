"""The ticket pages' data part kept in rt.cache (web/ticket_page_cache.py): kept while nothing it shows is written,
gone at once after any write through the engine or from another process, never served to another viewer, and pages
stay right without a live cache."""
from __future__ import annotations

import html
import re
import subprocess
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine import assignment, live_cache, notes, tickets
from engine.attachments import Upload
from engine.store import db
from engine.store.models import Ticket, User
from tests.waiting import wait_for
from web import ticket_page_cache
from tests.web.conftest import CSRF_RE
from tests.web.helpers import PNG, make_ticket

ROOT = Path(__file__).resolve().parents[2]
TOKEN_RE = re.compile(r'(?<=csrf-token" content=")[^"]+|(?<=name="_csrf" value=")[^"]+|(?<="X-CSRFToken": ")[^"]+')
# Another process renames the ticket through the store, on the same database and Redis.
RENAME_ELSEWHERE = """
import sys
from pathlib import Path
from redis import Redis
from engine import live_cache
from engine.settings import Settings
from engine.store.db import init_database
from engine.store.models import Ticket
data_dir, database_url, redis_socket, ticket_id = sys.argv[1:]
init_database(Settings(data_dir=Path(data_dir), database_url=database_url))
live_cache.publish_with(Redis(unix_socket_path=redis_socket))
Ticket.update(subject="Переименован в другом процессе").where(Ticket.id == int(ticket_id)).execute()
"""


class StillCache(live_cache.LiveCache):
    """Always live (its clock stands still) and following nothing: only this process's writes evict it, at once. The
    app's own cache also hears its process's evictions again over Redis, a moment later, and can lapse under load."""

    def __init__(self):
        super().__init__(clock=lambda: 0.0)
        self.heard()


@pytest.fixture
def kept(rt, app):
    """The app's pages kept in a StillCache (web/ticket_page_cache.py reads `rt.cache` per request)."""
    followed, rt.cache = rt.cache, StillCache()
    yield rt.cache
    rt.cache = followed


@pytest.fixture
def live(rt, app):
    """The app's cache (create_app follows the evictions), once its subscription is live."""
    wait_for(lambda: rt.cache.live, message="the eviction subscription")
    return rt.cache


@contextmanager
def unreported():
    """Writes nobody hears of (no process could make one): only a page that was not kept shows them."""
    listeners = db.write_listeners[:]
    db.write_listeners.clear()
    try:
        yield
    finally:
        db.write_listeners[:] = listeners


def _rename_unreported(ticket, subject: str) -> None:
    with unreported():
        Ticket.update(subject=subject).where(Ticket.id == ticket.id).execute()


def _text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def _assert_kept(clients_urls, ticket, subject: str) -> None:
    """Each page is served as it was stored: a write nobody reported does not show (the CSRF token, signed again
    each minute, aside)."""
    def pages() -> list[str]:
        return [TOKEN_RE.sub("token", _text(client, url)) for client, url in clients_urls]
    before = pages()
    _rename_unreported(ticket, subject)
    assert pages() == before


def test_each_engine_write_shows_on_the_next_view_at_once(rt, kept, as_role, users):
    customer, agent = as_role("customer"), as_role("agent")
    ticket = make_ticket(rt, users["customer"])
    mine, staff = f"/tickets/{ticket.number}", f"/agent/tickets/{ticket.number}"
    pages = [(customer, mine), (agent, staff)]
    _assert_kept(pages, ticket, "Тема 1")

    tickets.add_reply(rt, ticket, users["agent"], "Ответ поддержки", [], "web")
    for client, url in pages:
        page = _text(client, url)
        assert "Ответ поддержки" in page and "Тема 1" in page  # the unreported rename came along with the re-read
    assert "Ожидает вашего ответа" in _text(customer, mine)  # the reply changed the status

    _assert_kept(pages, ticket, "Тема 2")
    tickets.add_reply(rt, Ticket.get_by_id(ticket.id), users["customer"], "Скриншот", [Upload("screen.png", PNG)], "web")
    assert all("screen.png" in _text(client, url) for client, url in pages)

    _assert_kept(pages, ticket, "Тема 3")
    assignment.assign_ticket(rt, Ticket.get_by_id(ticket.id), users["admin"], users["agent"])
    assert f'<option value="{users["agent"].id}" selected>' in _text(agent, staff)

    _assert_kept(pages, ticket, "Тема 4")
    User.update(name="Анна Петрова").where(User.id == users["customer"].id).execute()
    assert all("Анна Петрова" in _text(client, url) for client, url in pages)  # the author of the messages

    _assert_kept(pages, ticket, "Тема 5")
    tickets.archive_ticket(rt, Ticket.get_by_id(ticket.id), users["customer"], "customer")
    assert "Запрос в архиве" in _text(customer, mine) and "В архиве" in _text(agent, staff)


def test_a_write_in_another_process_evicts_the_page(rt, live, as_role, users):
    customer = as_role("customer")
    ticket = make_ticket(rt, users["customer"])
    pages, tries = [(customer, f"/tickets/{ticket.number}")], iter(range(1000))

    def kept_once() -> bool:  # this process's own writes come back over Redis a moment later and evict once more
        try:
            _assert_kept(pages, ticket, f"Не видно {next(tries)}")
        except AssertionError:
            return False
        return True
    wait_for(kept_once, message="a page kept by the followed cache")
    socket = rt.redis.connection_pool.connection_kwargs["path"]
    subprocess.run([sys.executable, "-c", RENAME_ELSEWHERE, str(rt.settings.data_dir), rt.settings.database_url,
                    socket, str(ticket.id)], cwd=ROOT, check=True, capture_output=True)
    wait_for(lambda: "Переименован в другом процессе" in _text(customer, f"/tickets/{ticket.number}"),
             message="the eviction from the other process")


def test_no_other_viewer_gets_a_kept_page(rt, kept, as_role, users):
    ticket = make_ticket(rt, users["customer"])
    tickets.add_reply(rt, ticket, users["agent"], "Ответ", [], "web")
    notes.add_note(rt, Ticket.get_by_id(ticket.id), users["agent"], "Только для своих", "web")
    owner, agent = as_role("customer"), as_role("agent")
    assert "Только для своих" in _text(agent, f"/agent/tickets/{ticket.number}")
    assert "Только для своих" not in _text(owner, f"/tickets/{ticket.number}")
    _text(owner, f"/tickets/{ticket.number}")  # served from the cache now

    other = as_role("other")
    for client, url in ((other, f"/tickets/{ticket.number}"), (other, f"/agent/tickets/{ticket.number}"),
                        (owner, f"/agent/tickets/{ticket.number}")):
        response = client.get(url)
        assert response.status_code == 404 and "Ответ" not in response.get_data(as_text=True)

    # A second session of the same viewer shares the page, each with its own session's CSRF token in every form.
    for role, url in (("customer", f"/tickets/{ticket.number}"), ("agent", f"/agent/tickets/{ticket.number}")):
        tokens = set()
        for client in (as_role(role), as_role(role)):
            page = client.get(url).get_data(as_text=True)
            token = CSRF_RE.search(page).group(1)
            forms = re.findall(r'name="_csrf" value="([^"]+)"', page)
            assert len(forms) >= 2 and set(forms) == {token} and "\x00" not in page
            tokens.add(token)
        assert len(tokens) == 2


def test_a_failed_post_shows_its_errors_once_and_the_page_as_kept_after(rt, kept, as_role, users):
    customer = as_role("customer")
    ticket = make_ticket(rt, users["customer"])
    url = f"/tickets/{ticket.number}"
    plain = TOKEN_RE.sub("token", _text(customer, url))
    failed = customer.post(f"{url}/reply", data={"message": ""})
    assert failed.status_code == 422 and 'aria-invalid="true"' in failed.get_data(as_text=True)
    assert TOKEN_RE.sub("token", _text(customer, url)) == plain


def test_without_a_live_cache_every_view_reads_the_database(rt, live, as_role, users):
    customer, agent = as_role("customer"), as_role("agent")
    ticket = make_ticket(rt, users["customer"])
    rt.cache.close()  # no subscription: nothing is trusted
    for n, (client, url) in enumerate(((customer, f"/tickets/{ticket.number}"), (agent, f"/agent/tickets/{ticket.number}"))):
        _text(client, url)
        _rename_unreported(ticket, f"Без кэша {n}")
        assert f"Без кэша {n}" in _text(client, url)


def test_the_sla_time_left_is_kept_only_until_its_minute_ticks(rt, kept, as_role, users):
    class Clock:
        now = datetime(2027, 3, 15, 7, 0, 30, tzinfo=timezone.utc)  # Monday 10:00:30 Moscow, business hours

        def __call__(self):
            return self.now

    rt.clock = Clock()
    ticket = make_ticket(rt, users["customer"])
    agent, url = as_role("agent"), f"/agent/tickets/{ticket.number}"
    rt.clock.now += timedelta(seconds=20)

    def left(page: str) -> str:
        return re.search(r"осталось (\d+ ч \d+ мин)", page).group(1)

    first = _text(agent, url)
    assert left(first) == "3 ч 59 мин"
    rt.clock.now += timedelta(seconds=39)  # 10:01:29: 3 h 59 min 1 s left, the page as kept
    _assert_kept([(agent, url)], ticket, "Тема после")
    rt.clock.now += timedelta(seconds=2)  # 10:01:31: a minute less
    page = _text(agent, url)
    assert left(page) == "3 ч 58 мин" and "Тема после" in page


def test_past_max_stored_the_process_drops_its_pages_together(rt, kept, as_role, users, monkeypatch):
    monkeypatch.setattr(ticket_page_cache, "MAX_STORED", 1)
    monkeypatch.setattr(ticket_page_cache, "_stored", [0])
    customer = as_role("customer")
    first, second = make_ticket(rt, users["customer"]), make_ticket(rt, users["customer"], subject="Второй")
    _assert_kept([(customer, f"/tickets/{first.number}")], first, "Первый, уже в кэше")
    _text(customer, f"/tickets/{second.number}")  # the second page stored: all dropped, this one too
    _rename_unreported(first, "Первый, прочитан заново")
    _rename_unreported(second, "Второй, прочитан заново")
    assert "Первый, прочитан заново" in _text(customer, f"/tickets/{first.number}")
    assert "Второй, прочитан заново" in _text(customer, f"/tickets/{second.number}")

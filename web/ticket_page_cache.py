"""The ticket pages' data part (the title and content blocks of the customer's and the agent's ticket page) rendered
once and kept in the runtime's LiveCache (engine.live_cache) until a write to a table it shows commits, in any process.

An entry's key names everything its HTML depends on: the page, the ticket number, the viewer (id and role: the page is
never shared between viewers), the catalog version, the locale, the viewer's time zone and the script root (links).
The CSRF token, the one per-request value the page prints, is rendered as a marker and filled in per request (as
web/page_shell.py fills the shell). Only the page as it first shows is stored; one with per-request content (form
errors, typed text, kept files, a refusal, an earlier stretch of the conversation, a notice) is rendered and not
stored. An entry is tagged with every table the pages show (TABLES, all in engine.live_cache.WATCHED), so any committed
write to them evicts it, and is used only while the clock has not changed its text: an SLA target's time left is
kept until its minute left would drop (`shown_until`). A process stores at most MAX_STORED pages, then drops them
together (as web/list_cache.py does its lists).

Access is checked on every request: the customer's page is served from an entry only to the ticket's customer it
recorded (the key names the viewer too); the agent's page only behind `staff_required`, which reads the viewer's role
per request (staff see every ticket: engine.ticket_queries.staff_ticket). The view takes `token()` before reading the
ticket, so a page read across an eviction is not stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Hashable

from flask import render_template, request
from markupsafe import Markup, escape

from engine import notify
from engine.live_cache import table_tag
from web.context import catalog, current_user, locale, runtime, time_zone
from web.csrf_tokens import csrf_token
from web.fragments import Holed, marker
from web.page_shell import page_shell

TABLES = ("ticket", "message", "attachment", "user", "ticketevent", "slaclock")
PAGES = "ticket-pages"  # the tag of every entry: this process's are dropped together past MAX_STORED
TAGS = (PAGES, *(table_tag(table) for table in TABLES))
MAX_STORED = 1_000  # entries stored (~5-15 KB each) before this process's are dropped together

_stored = [0]  # entries stored since the last drop (approximate across threads: only a bound)
_CSRF = Markup(marker(0))


@dataclass(frozen=True)
class TicketPage:
    """A rendered page's data part: whose ticket it shows, its title, its content with the CSRF token's marker, and
    until when the clock leaves its text alone (None: while nothing is written)."""
    ticket_id: int
    owner_id: int
    title: Markup
    content: Holed
    until: datetime | None


def page_key(page: str, number: int, viewer) -> tuple:
    """What the page's HTML depends on besides the data its tags follow."""
    return (page, number, viewer.id, viewer.role, catalog().version, locale(), time_zone(), request.script_root)


def cached(key: Hashable) -> TicketPage | None:
    """The stored page under `key` while the cache is trusted and the clock has not changed its text."""
    entry = runtime().cache.get(key)
    if entry is None or (entry.until is not None and runtime().clock() >= entry.until):
        return None
    return entry


def token() -> int:
    """Take before reading the ticket: `rendered(..., store=(key, token))` then stores nothing read across an eviction."""
    return runtime().cache.token()


def rendered(template: str, ticket, context: dict, store: tuple[Hashable, int] | None = None,
             until: datetime | None = None) -> str:
    """The whole page: `template` (the content block) rendered for `ticket` with the CSRF token's marker, stored under
    `store` = (key, token) when given, then filled in for this request."""
    page = TicketPage(ticket.id, ticket.customer_id, Markup(f"#{ticket.number} {escape(ticket.subject)}"),
                      Holed(render_template(template, ticket=ticket, csrf_token=lambda: _CSRF, **context)), until)
    if store is not None:
        _stored[0] += 1
        if _stored[0] > MAX_STORED:  # pages nobody shows again before a write evicts them must not pile up
            _stored[0] = 0
            runtime().cache.evict((PAGES,))  # this process only; this page is not stored (its token is stale now)
        else:
            runtime().cache.put(store[0], page, store[1], tags=TAGS)
    return shown(page)


def shown(page: TicketPage) -> str:
    """The page in base.html's shell (web/page_shell.py, which base.html prints around its blocks: the same HTML
    without a template render), with this request's CSRF token."""
    user, token = current_user(), csrf_token()
    head, middle, tail = page_shell({"current_user": user, "catalog": catalog(), "locale": locale(),
                                     "csrf_token": lambda: token,
                                     "unread_count": lambda: notify.unread_count(user, runtime().cache)})
    return head + page.title + middle + page.content.fill((str(escape(token)),)) + tail


def shown_until(targets) -> datetime | None:
    """When the SLA targets' text next changes by the clock alone: a running target's minutes left drop (`ticks_at`,
    in business time); a met, stopped, paused or overdue target's text stays. None: never."""
    return min((target.ticks_at for target in targets if target.ticks_at is not None), default=None)

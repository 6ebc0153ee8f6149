"""The rendered list part (rows, total, pager) of my tickets, the archive and the agents' queue, kept in the runtime's
LiveCache (engine.live_cache): a list shown again before anything it shows changed costs a dictionary lookup instead of
the COUNT, the keyset walk and the rows' HTML.

An entry's key holds everything its HTML depends on besides the database: the list and its parameters (the viewer's
id for a customer's own list; the queue's filters as chosen and as resolved, with the agent's id only where a filter
names the agent), the catalog version, the locale, the viewer's time zone and the script root (the links); the queue
with an SLA column also the current minute of the runtime's clock (time left is shown in minutes). Entries are tagged
with the WATCHED tables they show, so any committed write to them, in any process, evicts them; the cache trusts
nothing while its eviction subscription is not live (then every request renders). A process keeps at most MAX_STORED
list entries: entries are rarely shown twice once a write evicted them or their minute passed, so all go together
when more were stored (the cache's own eviction takes a whole tag). Access checks and parameter
validation run before the lookup, on every request; the list part prints no per-request values (no form, no flash).
"""
from __future__ import annotations

from typing import Callable

from flask import request
from markupsafe import Markup

from engine.live_cache import table_tag
from web.context import catalog, locale, runtime, time_zone

LISTS = "lists"  # the tag of every list entry: dropped from this process's cache together past MAX_STORED
MAX_STORED = 1_000  # list entries stored (up to ~35 KB each: 50 rows) before this process's are dropped together
CUSTOMER_LIST_TAGS = (LISTS, table_tag("ticket"))  # a customer's rows show the ticket and its snapshot only
QUEUE_TAGS = (LISTS, table_tag("ticket"), table_tag("user"))  # ... the queue also the customer's and assignee's names

_stored = [0]  # entries stored since the last drop (approximate across threads: only a bound)


def list_part(kind: str, parameters: tuple, tags: tuple[str, ...], render: Callable[[], str]) -> Markup:
    """The list part `render()` makes for `kind` ("tickets", "archive", "queue") with `parameters`, from the cache
    when an entry is fresh, else rendered (and stored unless something was evicted meanwhile)."""
    cache = runtime().cache
    key = ("list", kind, catalog().version, locale(), time_zone(), request.script_root, *parameters)
    found = cache.get(key)
    if found is not None:
        return found
    token = cache.token()  # before the reads: a list read across a write's eviction is not stored
    html = Markup(render())
    _stored[0] += 1
    if _stored[0] > MAX_STORED:  # keys nobody shows again (cursors, minutes, idle viewers) must not pile up
        _stored[0] = 0
        cache.evict((LISTS,))  # this process only; this list is not stored either (its token is stale now)
    else:
        cache.put(key, html, token, tags)
    return html


def current_minute() -> int:
    """The runtime clock's minute (a key part for lists that show time left in minutes)."""
    return int(runtime().clock().timestamp() // 60)

"""The admin index page as every admin view renders it: catalog status, history, channels, processes, deliveries."""
from __future__ import annotations

from flask import current_app, render_template
from peewee import DatabaseError
from redis.exceptions import RedisError

from engine.channel_setup import unconfigured
from engine.config_versions import history_page
from engine.delivery import failed_delivery_page
from engine.liveness import live_processes
from engine.pagination import Page
from engine.redis_conn import quick_client
from web.context import runtime
from web.paging import cursor_args

HISTORY_ROWS = 10  # versions on the index page; /admin/versions pages through all of them
REDIS_TIMEOUT = 1.0  # seconds: the page still renders, saying so, while Redis is away


def render_index(result=None):
    rt = runtime()
    missing = {u.binding_id: u.env_var for u in unconfigured(rt.catalog, rt.settings.env)}
    processes, processes_error = _processes()
    return render_template("admin/index.html", holder=rt.catalogs, result=result, missing=missing,
                           failed=failed_delivery_page(**cursor_args()), processes=processes, processes_error=processes_error,
                           versions=versions(size=HISTORY_ROWS))


def versions(after: str | None = None, before: str | None = None, size: int = HISTORY_ROWS) -> Page:
    """A page of stored config versions, newest first; an empty one before the database has the table."""
    try:
        return history_page(after, before, size)
    except DatabaseError:
        return Page([], 0, 0, None, None)


def _processes():
    """(live processes, None), or ([], the reason) when Redis does not answer."""
    redis = current_app.extensions.get("helpdesk_admin_redis")
    if redis is None:
        redis = current_app.extensions["helpdesk_admin_redis"] = quick_client(runtime().redis, REDIS_TIMEOUT)
    try:
        return live_processes(redis), None
    except RedisError as exc:
        return [], str(exc)

"""Catalog version, files and last errors; the Reload button; channel bindings; live processes; failed and
skipped deliveries."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from peewee import DatabaseError
from redis.exceptions import RedisError

from engine.channel_setup import unconfigured
from engine.config_versions import history
from engine.delivery import failed_delivery_page, retry_delivery
from engine.liveness import live_processes
from engine.redis_conn import quick_client
from engine.teams import unknown_members
from web.admin.blueprint import bp
from web.auth import admin_required
from web.context import current_user, runtime
from web.paging import cursor_args


@bp.get("/")
@admin_required
def index():
    return _render_index()


@bp.post("/reload")
@admin_required
def reload():
    """Store this host's config folder as the newest version (every process switches to it); an invalid one keeps the
    running catalog and shows file:line errors."""
    comment = request.form.get("comment", "").strip()[:COMMENT_LIMIT]
    result = runtime().catalogs.reload(actor=current_user(), comment=comment)  # the holder writes the audit row
    if request.htmx:
        return render_template("admin/_reload_result.html", result=result, holder=runtime().catalogs,
                               member_warnings=_member_warnings())
    return _render_index(result=result)


@bp.post("/deliveries/<id:delivery_id>/retry")
@admin_required
def retry(delivery_id: int):
    retry_delivery(runtime(), delivery_id)
    return redirect(url_for("admin.index", _anchor="deliveries"), 303)


def _render_index(result=None):
    rt = runtime()
    missing = {u.binding_id: u.env_var for u in unconfigured(rt.catalog, rt.settings.env)}
    processes, processes_error = _processes()
    return render_template("admin/index.html", holder=rt.catalogs, result=result, missing=missing,
                           failed=failed_delivery_page(**cursor_args()), processes=processes, processes_error=processes_error,
                           versions=_history(), member_warnings=_member_warnings())


def _member_warnings():
    """teams.yaml members without an agent account (warnings: the account may be created later)."""
    catalog = runtime().catalog
    return unknown_members(catalog, catalog.config_dir)


COMMENT_LIMIT = 500  # characters of a reload's comment
HISTORY_ROWS = 20


def _history():
    """The newest stored config versions (read-only); [] before the database has the table."""
    try:
        return history(HISTORY_ROWS)
    except DatabaseError:
        return []


REDIS_TIMEOUT = 1.0  # seconds: the page still renders, saying so, while Redis is away


def _processes():
    """(live processes, None), or ([], the reason) when Redis does not answer."""
    redis = current_app.extensions.get("helpdesk_admin_redis")
    if redis is None:
        redis = current_app.extensions["helpdesk_admin_redis"] = quick_client(runtime().redis, REDIS_TIMEOUT)
    try:
        return live_processes(redis), None
    except RedisError as exc:
        return [], str(exc)

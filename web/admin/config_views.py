"""Changing the running config: the files on disk compared with it and previewed (web form, each channel's
questions) before applying, applying with a comment, the version history, and a rollback to an earlier version.
Every apply and rollback is audited by the holder (engine.catalog_sync)."""
from __future__ import annotations

from flask import abort, render_template, request

from engine.channel_registry import registry
from engine.form_session import FormSession
from engine.store.models import ConfigVersion
from web.admin.blueprint import bp
from web.admin.page import render_index, versions
from web.auth import admin_required
from web.context import channel_title, current_user, locale, runtime, t
from web.paging import cursor_args

COMMENT_LIMIT = 500  # characters of a reload's comment
PREVIEW_TOPICS = 10  # changed topics previewed on the draft page; the rest are counted
WEB = "web"


@bp.get("/config/draft")
@admin_required
def draft():
    """The files on disk against the running version: errors, or what changed and how changed topics look."""
    found = runtime().catalogs.draft()
    topics = found.diff.changed_topics(found.catalog) if found.catalog is not None else []
    previews = [_preview(found.catalog, key) for key in topics[:PREVIEW_TOPICS]]
    return render_template("admin/draft.html", draft=found, lines=found.diff.lines(locale()), previews=previews,
                           more=len(topics) - len(previews), holder=runtime().catalogs)


@bp.post("/reload")
@admin_required
def reload():
    """Store this host's config folder as the newest version (every process switches to it); an invalid one keeps the
    running catalog and shows file:line errors."""
    comment = request.form.get("comment", "").strip()[:COMMENT_LIMIT]
    return _published(runtime().catalogs.reload(actor=current_user(), comment=comment))


@bp.get("/versions")
@admin_required
def history():
    return render_template("admin/versions.html", versions=versions(**cursor_args()), holder=runtime().catalogs)


@bp.post("/versions/<id:number>/rollback")
@admin_required
def rollback(number: int):
    """Publish stored version `number` again as the newest one (the button asks for confirmation first)."""
    comment = request.form.get("comment", "").strip()[:COMMENT_LIMIT] or t("admin_rollback_comment", number=number)
    try:
        result = runtime().catalogs.rollback(number, actor=current_user(), comment=comment)
    except ConfigVersion.DoesNotExist:
        abort(404)
    return _published(result, source=number)


def _published(result, source: int | None = None):
    if request.htmx:  # the status, and the history with the new version (out of band)
        return render_template("admin/_published.html", result=result, source=source, holder=runtime().catalogs,
                               versions=versions())
    return render_index(result=result)


def _preview(catalog, key: str) -> dict:
    """A changed topic as the draft shows it: its web form's fields, and each channel's messages."""
    topic = catalog.topic(key)
    form = FormSession.start(catalog, topic, WEB) if WEB in topic.channels else None
    channels = []
    for channel in registry.all():
        steps = channel.preview_steps(catalog, topic, locale())
        if steps is not None:
            channels.append((channel_title(channel.kind), steps))
    return {"topic": topic, "category": catalog.category(topic.category_id), "form": form,
            "hidden": form.hidden_ids() if form else set(), "channels": channels}

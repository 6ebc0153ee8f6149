"""Search feedback (engine.search_feedback): phrases the topic search did not serve, by count, with the keywords to
add to the topic chosen; Dismiss hides a row until the phrase comes again."""
from __future__ import annotations

from flask import redirect, render_template, url_for

from engine import search_feedback
from web.admin.blueprint import bp
from web.auth import admin_required
from web.context import catalog, runtime


@bp.get("/search-feedback")
@admin_required
def search_feedback_page():
    return render_template("admin/search_feedback.html", rows=search_feedback.open_feedback(catalog()))


@bp.post("/search-feedback/<id:row_id>/dismiss")
@admin_required
def dismiss_search_feedback(row_id: int):
    search_feedback.dismiss(row_id, now=runtime().clock())
    return redirect(url_for("admin.search_feedback_page"), 303)

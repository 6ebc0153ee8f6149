"""The admin index (catalog version, files, history, channel bindings, live processes, failed and skipped
deliveries) and retrying a delivery."""
from __future__ import annotations

from flask import redirect, url_for

from engine.delivery import retry_delivery
from web.admin.blueprint import bp
from web.admin.page import render_index
from web.auth import admin_required
from web.context import runtime


@bp.get("/")
@admin_required
def index():
    return render_index()


@bp.post("/deliveries/<id:delivery_id>/retry")
@admin_required
def retry(delivery_id: int):
    retry_delivery(runtime(), delivery_id)
    return redirect(url_for("admin.index", _anchor="deliveries"), 303)

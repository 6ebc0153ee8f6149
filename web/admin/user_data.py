"""`/admin/users/<id>/data`: one customer's data export (a zip) and erasure, for admins; its own blueprint."""
from __future__ import annotations

import tempfile

from flask import Blueprint, render_template, request, send_file

from engine import customer_data
from engine.errors import PermissionDenied
from engine.store.models import Ticket, User
from web.admin.users import user_or_404
from web.auth import admin_required
from web.context import current_user, runtime

bp = Blueprint("admin_user_data", __name__, url_prefix="/admin/users")
SPOOL_IN_MEMORY = 8 * 1024 * 1024  # a larger export spills to a temporary file


def _page(user: User, status: int = 200, **extra):
    tickets = Ticket.select().where(Ticket.customer == user).count()
    return render_template("admin/user_data.html", user=user, tickets=tickets, **extra), status


@bp.get("/<id:user_id>/data")
@admin_required
def page(user_id: int):
    return _page(user_or_404(user_id))


@bp.post("/<id:user_id>/data/export")
@admin_required
def export(user_id: int):
    user = user_or_404(user_id)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    try:
        customer_data.export_customer(runtime(), user, out, actor=current_user(), by=current_user().email)
    except PermissionDenied:
        out.close()
        return _page(user, 403, error_key="data_not_customer")
    out.seek(0)
    return send_file(out, mimetype="application/zip", as_attachment=True, download_name=f"customer-{user.id}.zip")


@bp.post("/<id:user_id>/data/erase")
@admin_required
def erase(user_id: int):
    user = user_or_404(user_id)
    if request.form.get("confirm", "").strip().lower() != user.email:
        return _page(user, 422, error_key="data_erase_mismatch")
    try:
        report = customer_data.erase_customer(runtime(), user, actor=current_user(), by=current_user().email)
    except PermissionDenied:
        return _page(user, 403, error_key="data_not_customer")
    return _page(User.get_by_id(user.id), erased=report)

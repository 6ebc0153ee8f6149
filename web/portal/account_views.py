"""Notification settings (types x channels, extra emails, Telegram) and the in-app notification list."""
from __future__ import annotations

import logging

import segno
from flask import abort, redirect, render_template, request, url_for
from markupsafe import Markup

from engine import accounts, notify, sessions
from engine.errors import NotFound, ValidationFailed
from engine.local_time import zone_names
from engine.render import render
from engine.store.models import TelegramLink
from web.auth import end_web_session, login_required
from web.context import catalog, current_user, locale, runtime, t, time_zone
from web.paging import cursor_args
from web.portal.blueprint import bp

log = logging.getLogger(__name__)

MAX_EMAILS_TEXT = 4000
MAX_ZONE_TEXT = 64


@bp.get("/settings")
@login_required
def settings():
    return render_settings()


@bp.post("/settings")
@login_required
def save_settings():
    user = current_user()
    choices = {type_id: {channel: request.form.get(f"pref:{type_id}:{channel}") == "on" for channel in notify.channel_kinds()}
               for type_id in notify.offered_types(catalog(), user)}
    emails = request.form.get("notify_emails", "")[:MAX_EMAILS_TEXT].replace(",", "\n").splitlines()
    username = request.form.get("telegram_username", "")
    support = request.form.get("support_in_telegram") == "on"
    zone = request.form.get("time_zone", "")[:MAX_ZONE_TEXT]
    try:
        with runtime().db.atomic():  # all or nothing: a bad email keeps the old preferences too
            accounts.set_time_zone(runtime(), user, zone, locale())
            accounts.set_notify_emails(runtime(), user, emails, locale())
            accounts.set_telegram_username(runtime(), user, username, enabled=support, locale=locale())
            notify.set_preferences(user, choices)
    except ValidationFailed as exc:
        form = {"choices": choices, "emails": "\n".join(e.strip() for e in emails if e.strip()), "username": username,
                "support": support, "time_zone": zone}
        return render_settings(errors=exc.errors, form=form), 422
    return redirect(url_for("portal.settings", saved=1), 303)


@bp.post("/settings/telegram/<binding>")
@login_required
def telegram_link(binding: str):
    """Issue a one-time deep link for one bot (a POST: a token is created), shown with a QR code."""
    try:
        token = accounts.issue_link_token(runtime(), current_user(), binding)
    except NotFound:
        abort(404)
    spec = catalog().bindings(kind="telegram")[binding]
    link = {"binding": binding, "url": f"https://t.me/{spec.username}?start={token}" if spec.username else None,
            "command": f"/start {token}"}
    if link["url"]:
        link["qr"] = Markup(segno.make(link["url"], error="m").svg_inline(scale=4, border=2))
    if request.htmx:
        return render_template("portal/_telegram_link.html", link=link, spec=spec)
    return render_settings(issued=link)


@bp.post("/settings/sessions/end")
@login_required
def end_all_sessions():
    """Sign out of every device, this one included (a lost phone, a shared computer)."""
    sessions.end_user_sessions(current_user())
    end_web_session()
    return redirect(url_for("auth.login"), 303)


@bp.get("/notifications")
@login_required
def notifications():
    page = notify.user_notification_page(current_user(), **cursor_args())
    items = [{"n": item, "text": _web_text(item), "ticket_number": item.ticket.number if item.ticket_id else None}
             for item in page.rows]
    return render_template("portal/notifications.html", items=items, page=page, unread=notify.unread_count(current_user()))


def _web_text(item) -> str:
    """The notification's web line; its type id when the type left the config, a neutral text when it cannot render."""
    spec = catalog().notification_types.get(item.type_id)
    if spec is None:
        return item.type_id
    try:
        return render(catalog(), item.type_id, "web", item.params or {}, locale(), time_zone()).text
    except Exception:  # a template failing on these params must not take the whole page down
        log.warning("notification %s: web template of %r cannot be rendered", item.id, item.type_id, exc_info=True)
        return t("notification_unavailable", title=spec.title)


@bp.post("/notifications/read")
@login_required
def notifications_read():
    notify.mark_read(current_user())
    if request.htmx:
        return render_template("portal/_notif_badge.html")
    return redirect(url_for("portal.notifications"), 303)


@bp.get("/notifications/badge")
@login_required
def notifications_badge():
    return render_template("portal/_notif_badge.html")


def render_settings(errors=None, form=None, issued=None):
    user = current_user()
    bots = catalog().bindings(kind="telegram")
    links = {}
    for link in TelegramLink.select().where((TelegramLink.user == user) & TelegramLink.active):
        links.setdefault(link.binding, []).append(link)
    form = form or {"choices": notify.preferences(catalog(), user), "emails": "\n".join(user.notify_emails or []),
                    "username": user.telegram_username or "", "support": user.support_in_telegram,
                    "time_zone": user.time_zone or ""}
    return render_template("portal/settings.html", form=form, errors=errors or {}, bots=bots, links=links, issued=issued,
                           zones=zone_names(),
                           types=notify.offered_types(catalog(), user), channels=notify.channel_kinds(), saved=request.args.get("saved"),
                           claimed=request.args.get("claimed", type=int))

"""Claim a Telegram-first account from the settings page: the bot's one-time code merges it into this account."""
from __future__ import annotations

from flask import current_app, redirect, request, url_for

from engine import telegram_first
from engine.errors import ValidationFailed
from web.auth import login_required, window_exceeded
from web.context import catalog, current_user, locale, runtime
from web.portal.account_views import render_settings
from web.portal.blueprint import bp


def claim_flooded(subject: str) -> bool:
    """Count one code attempt per `subject` (an account or an address) and per client IP."""
    config = current_app.config
    return window_exceeded(config["CLAIM_WINDOW"], (
        (f"web:claim:{subject}", config["CLAIM_ATTEMPTS_PER_USER"]),
        (f"web:claim-ip:{request.remote_addr}", config["CLAIM_ATTEMPTS_PER_IP"])))


@bp.post("/settings/telegram-claim")
@login_required
def telegram_claim():
    user = current_user()
    if not telegram_first.enabled(runtime()):
        return redirect(url_for("portal.settings"), 303)
    if claim_flooded(f"user:{user.id}"):
        return render_settings(errors={"code": catalog().text(locale(), "validation", "claim_rate_limited")}), 429
    try:
        report = telegram_first.claim(runtime(), request.form.get("code", "")[:100], user, locale())
    except ValidationFailed as exc:
        return render_settings(errors=exc.errors), 422
    return redirect(url_for("portal.settings", claimed=report.tickets), 303)

"""Sign-in by an emailed one-time link (`policies.signup.magic_link`).

Every request gets the same answer and takes at least SIGN_IN_LINK_FLOOR seconds, so neither the page nor its
timing tells whether the address has an account; floods get 429 per address and per client IP. Opening the link
shows a button: the POST spends it, so mail scanners that fetch links spend nothing.
"""
from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from engine import account_tokens, accounts, sessions, signup
from web.account import flooded, public_link
from web.auth import end_web_session, home_for
from web.context import runtime
from web.redirects import safe_next

bp = Blueprint("sign_in_link", __name__)


def _offered() -> None:
    if not runtime().catalog.policies.signup.magic_link:
        abort(404)


@bp.route("/login/link", methods=["GET", "POST"])
def request_link():
    _offered()
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/sign_in_link.html", next=next_url)
    started = time.monotonic()
    email = accounts.normalize_email(request.form.get("email", ""))[:254]
    if flooded("sign-in-link", email):
        return render_template("auth/sign_in_link.html", email=email, next=next_url,
                               error_key="account_rate_limited"), 429
    signup.request_sign_in_link(runtime(), email, lambda token: public_link(
        url_for("sign_in_link.confirm", token=token, next=next_url)))
    rest = current_app.config["SIGN_IN_LINK_FLOOR"] - (time.monotonic() - started)
    if rest > 0:
        time.sleep(rest)
    return render_template("auth/message.html", title_key="login_link_title", message_key="login_link_sent")


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def confirm(token: str):
    _offered()
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if account_tokens.peek(token, "magic") is None:
            return _invalid()
        return render_template("auth/sign_in_link_confirm.html", token=token, next=next_url)
    user = signup.sign_in_with_link(runtime(), token)
    if user is None:
        return _invalid()
    end_web_session()  # a fresh session: no fixation of a cookie from before
    session["sid"] = sessions.start_session(user)
    session.permanent = True
    return redirect(next_url or home_for(user), 303)


def _invalid():
    return render_template("auth/message.html", title_key="login_link_title", message_key="login_link_invalid",
                           link=url_for("sign_in_link.request_link")), 404

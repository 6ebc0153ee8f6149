"""Self-service account pages: sign-up, the emailed verification link and its resend, forgotten password and reset,
accepting an invitation.

Answers never tell whether an address has an account; floods get 429 per address and per client IP
(ACCOUNT_EMAILS_PER_ADDRESS / ACCOUNT_EMAILS_PER_IP in ACCOUNT_WINDOW seconds).
"""
from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from engine import account_tokens, accounts, invitations, sessions, signup
from engine.errors import ValidationFailed
from web.auth import end_web_session, home_for, login_required, window_exceeded
from web.context import current_user, locale, runtime
from web.redirects import safe_next

bp = Blueprint("account", __name__)


def flooded(kind: str, email: str) -> bool:
    address = hashlib.sha256(email.encode()).hexdigest()[:32]
    config = current_app.config
    return window_exceeded(config["ACCOUNT_WINDOW"], (
        (f"web:{kind}:{address}", config["ACCOUNT_EMAILS_PER_ADDRESS"]),
        (f"web:{kind}-ip:{request.remote_addr}", config["ACCOUNT_EMAILS_PER_IP"])))


def public_link(path: str) -> str:
    """An emailed link under PUBLIC_URL, never the request's Host header (a forged one would phish the reset link)."""
    return runtime().settings.public_url + path


def reset_link(token: str) -> str:
    """The emailed password reset link."""
    return public_link(url_for("account.reset", token=token))


def _verify_link(next_url: str | None):
    return lambda token: public_link(url_for("account.verify", token=token, next=next_url))


@bp.route("/signup", methods=["GET", "POST"])
def signup_page():
    if not signup.signup_open(runtime()):
        return render_template("auth/message.html", title_key="signup_title", message_key="signup_closed"), 404
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(home_for(current_user()))
        return render_template("auth/signup.html", next=next_url, errors={}, values={})
    values = {"email": request.form.get("email", "").strip()[:254], "name": request.form.get("name", "").strip()[:200],
              "code": request.form.get("code", "").strip()[:40]}
    password = request.form.get("password", "")[:1024]
    email = accounts.normalize_email(values["email"])
    if flooded("signup", email):
        return render_template("auth/signup.html", next=next_url, errors={}, values=values,
                               error_key="account_rate_limited"), 429
    try:
        signup.sign_up(runtime(), email, password, values["name"], locale(), _verify_link(next_url),
                       public_link(url_for("account.forgot")), claim_code=values["code"])
    except ValidationFailed as exc:
        return render_template("auth/signup.html", next=next_url, errors=exc.errors, values=values), 422
    return render_template("auth/message.html", title_key="signup_title", message_key="signup_check_email")


@bp.get("/verify/<token>")
def verify(token: str):
    user = signup.verify(runtime(), token)
    if user is None:
        return render_template("auth/message.html", title_key="verify_title", message_key="verify_invalid"), 404
    target = safe_next(request.args.get("next"))
    if current_user() is not None and current_user().id == user.id:
        return redirect(target or home_for(user), 303)
    return render_template("auth/message.html", title_key="verify_title", message_key="verify_done",
                           link=url_for("auth.login", next=target))


@bp.post("/verify/resend")
@login_required
def resend_verification():
    user = current_user()
    if flooded("resend", user.email):
        return render_template("auth/message.html", title_key="verify_title", message_key="account_rate_limited"), 429
    signup.resend_verification(runtime(), user, _verify_link(None))
    return render_template("auth/message.html", title_key="verify_title", message_key="verify_resent")


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    if request.method == "GET":
        return render_template("auth/forgot.html")
    email = accounts.normalize_email(request.form.get("email", ""))[:254]
    if flooded("reset", email):
        return render_template("auth/forgot.html", email=email, error_key="account_rate_limited"), 429
    signup.request_reset(runtime(), email, reset_link)
    return render_template("auth/message.html", title_key="forgot_title", message_key="forgot_check_email")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    if request.method == "GET":
        if account_tokens.peek(token, "reset") is None:
            return _reset_invalid()
        return render_template("auth/reset.html", token=token, errors={})
    try:
        user = signup.reset_password(runtime(), token, request.form.get("password", "")[:1024], locale())
    except ValidationFailed as exc:
        return render_template("auth/reset.html", token=token, errors=exc.errors), 422
    if user is None:
        return _reset_invalid()
    end_web_session()  # whatever this browser was signed in as; every session of the account ended with the reset
    return _signed_in(user)


def _signed_in(user):
    """Start a session of `user` in this browser and go on to `next` or their home page."""
    session["sid"] = sessions.start_session(user)
    session.permanent = True
    return redirect(safe_next(request.values.get("next")) or home_for(user), 303)


def invite_link(token: str) -> str:
    """The emailed invitation link (engine.invitations.INVITE_PATH under PUBLIC_URL)."""
    return public_link(url_for("account.accept_invite", token=token))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    """An invited customer sets a password (and a name), which confirms the address and signs them in."""
    owner = account_tokens.peek(token, "invite")
    if owner is None:
        return render_template("auth/message.html", title_key="invite_title", message_key="invite_invalid"), 404
    if request.method == "GET":
        return render_template("auth/invite.html", token=token, owner=owner, errors={})
    try:
        user = invitations.accept(runtime(), token, request.form.get("password", "")[:1024],
                                  request.form.get("name", "")[:200], locale())
    except ValidationFailed as exc:
        return render_template("auth/invite.html", token=token, owner=owner, errors=exc.errors), 422
    if user is None:
        return render_template("auth/message.html", title_key="invite_title", message_key="invite_invalid"), 404
    end_web_session()
    return _signed_in(user)


def _reset_invalid():
    return render_template("auth/message.html", title_key="forgot_title", message_key="reset_invalid",
                           link=url_for("account.forgot")), 404


def guard_unverified():
    """For pages that need a confirmed address (ticket creation): a 403 page saying so with a resend button, or None."""
    user = current_user()
    if user is not None and not user.is_staff and signup.needs_verification(runtime(), user):
        return render_template("auth/message.html", title_key="verify_title", message_key="verify_needed",
                               resend=True), 403
    return None

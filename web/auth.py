"""Sign-in, sign-out, the language switch, and the role guards every other blueprint uses."""
from __future__ import annotations

import hashlib
from functools import wraps

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from engine import accounts, rate_windows, sessions
from engine.store.models import STAFF_ROLES
from web import pending
from web.context import LOCALES, current_user, runtime
from web.redirects import safe_next

bp = Blueprint("auth", __name__)


def login_required(view):
    """Anonymous visitors go to the sign-in page and come back afterwards."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        return view(*args, **kwargs)

    return wrapper


def role_required(*roles: str):
    """Only these roles may pass; everyone else signed in gets 404, so staff pages are not even revealed."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user().role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapper

    return decorator


staff_required = role_required(*STAFF_ROLES)
admin_required = role_required("admin")


def home_for(user) -> str:
    return url_for("agent.queue") if user.is_staff else url_for("portal.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if current_user() is not None:
            return redirect(home_for(current_user()))
        return render_template("auth/login.html", next=safe_next(request.args.get("next")))
    email = request.form.get("email", "").strip().lower()[:254]
    password = request.form.get("password", "")[:1024]
    if _attempts_exceeded(email):
        return render_template("auth/login.html", email=email, error_key="login_rate_limited"), 429
    user = accounts.check_credentials(email, password)
    if user is None:
        return render_template("auth/login.html", email=email, error_key="login_failed",
                               next=safe_next(request.form.get("next"))), 401
    if not user.is_active:  # told only to someone who knows the password
        return render_template("auth/login.html", email=email, error_key="login_deactivated"), 403
    session.clear()  # a fresh session on sign-in: no fixation of a pre-login cookie
    session["sid"] = sessions.start_session(user)
    session.permanent = True
    return redirect(safe_next(request.form.get("next")) or home_for(user), 303)


@bp.post("/logout")
def logout():
    """End this session on the server: a copy of the cookie taken before is worthless afterwards."""
    end_web_session()
    return redirect(url_for("auth.login"), 303)


def end_web_session() -> None:
    """Forget this browser's server-side session, its pending uploads and its cookie contents."""
    token = session.get("sid")
    if token:
        pending.discard_all(token)
        sessions.end_session(token)
    session.clear()


@bp.post("/locale")
def switch_locale():
    chosen = request.form.get("locale")
    if chosen in LOCALES:
        session["locale"] = chosen
    return redirect(safe_next(request.form.get("next")) or url_for("portal.home"), 303)


def _attempts_exceeded(email: str) -> bool:
    """Count sign-in attempts per client address and email, and per address alone."""
    pair = hashlib.sha256(f"{request.remote_addr}|{email}".encode()).hexdigest()[:32]
    return window_exceeded(current_app.config["LOGIN_WINDOW"], (
        (f"web:login:{pair}", current_app.config["LOGIN_ATTEMPTS"]),
        (f"web:login-ip:{request.remote_addr}", current_app.config["LOGIN_ATTEMPTS_PER_ADDRESS"])))


def window_exceeded(window: int, limits) -> bool:
    """Count one attempt in each (key, limit) fixed window of `window` seconds in Redis; True when any is over."""
    return rate_windows.window_exceeded(runtime().redis, window, limits)

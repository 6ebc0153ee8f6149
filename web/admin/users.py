"""/admin/users: the accounts list (search, role filter, keyset pages), one account's page, invitations, role changes,
(de)activation and reset links. Staff see the list and invite; only admins change roles and (de)activate."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from engine import accounts, invitations, user_admin
from engine.errors import InvalidValue
from engine.store.models import User
from web.account import invite_link, reset_link
from web.admin.blueprint import bp
from web.auth import admin_required, staff_required
from web.context import catalog, current_user, locale, runtime
from web.paging import cursor_args

HISTORY_ROWS = 50
# Audit actions with a text `audit_<action>` (others show their code).
AUDIT_ACTIONS = {"invite", "invite_resend", "invite_accepted", "user_deactivate", "user_reactivate", "user_reset_link",
                 "customer_export", "customer_erase"}
# What a successful action says on the page it returns to (?done=<key>): only these keys are shown.
DONE_TEXTS = {"invited": "users_invited", "role": "user_role_changed", "deactivated": "user_deactivated",
              "reactivated": "user_reactivated", "resent": "user_invite_resent", "reset": "user_reset_sent"}


@bp.get("/users")
@staff_required
def users():
    role = request.args.get("role") or ""
    if role and role not in accounts.ROLES:
        abort(400)
    return _render_list(search=request.args.get("q", ""), role=role)


@bp.post("/users/invite")
@staff_required
def invite():
    email, name = request.form.get("email", "").strip()[:254], request.form.get("name", "").strip()[:200]
    try:
        user = invitations.invite(runtime(), email, current_user(), invite_link, name=name)
    except InvalidValue as exc:
        return _render_list(invite_values={"email": email, "name": name}, invite_error=_text(exc)), 422
    return redirect(url_for("admin.users", done="invited", email=user.email), 303)


@bp.get("/users/<id:user_id>")
@staff_required
def user(user_id: int):
    return _render_user(user_or_404(user_id))


@bp.post("/users/<id:user_id>/role")
@admin_required
def role(user_id: int):
    found = user_or_404(user_id)
    return _act(found, "role", lambda: user_admin.set_role(runtime(), current_user(), found, request.form.get("role", "")))


@bp.post("/users/<id:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    found = user_or_404(user_id)
    return _act(found, "deactivated", lambda: user_admin.deactivate(runtime(), current_user(), found))


@bp.post("/users/<id:user_id>/reactivate")
@admin_required
def reactivate(user_id: int):
    found = user_or_404(user_id)
    return _act(found, "reactivated", lambda: user_admin.reactivate(runtime(), current_user(), found))


@bp.post("/users/<id:user_id>/resend")
@staff_required
def resend(user_id: int):
    found = user_or_404(user_id)
    return _act(found, "resent", lambda: invitations.resend(runtime(), found, current_user(), invite_link))


@bp.post("/users/<id:user_id>/reset")
@staff_required
def reset(user_id: int):
    found = user_or_404(user_id)
    if current_user().role != "admin" and found.role != "customer":
        abort(404)  # agents send reset links to customers only
    return _act(found, "reset", lambda: user_admin.send_reset_link(runtime(), current_user(), found, reset_link))


def user_or_404(user_id: int) -> User:
    """The account with this id, or a 404 (also for the data pages, web/admin/user_data.py)."""
    found = User.get_or_none(User.id == user_id)
    if found is None:
        abort(404)
    return found


def _act(found: User, done: str, action):
    """Run an account change; back to the account's page saying it is done, or the page with the refusal (409)."""
    try:
        action()
    except InvalidValue as exc:
        return _render_user(found, error=_text(exc)), 409
    return redirect(url_for("admin.user", user_id=found.id, done=done), 303)


def _text(exc: InvalidValue) -> str:
    return catalog().text(locale(), "validation", exc.key, **exc.params)


def _done() -> str | None:
    return DONE_TEXTS.get(request.args.get("done", ""))


def _render_list(search: str = "", role: str = "", invite_values=None, invite_error=None):
    page = user_admin.user_page(search, role or None, **cursor_args())
    return render_template("admin/users.html", page=page, can_invite=invitations.enabled(runtime()), search=search.strip(), role=role, roles=accounts.ROLES,
                           states=user_admin.states(page.rows), done=_done(),
                           done_email=request.args.get("email", ""), invite_values=invite_values or {},
                           invite_error=invite_error)


def _render_user(found: User, error: str | None = None):
    return render_template("admin/user.html", user=found, roles=accounts.ROLES, links=user_admin.telegram_links(found),
                           states=user_admin.states([found]),
                           pending=invitations.enabled(runtime()) and invitations.pending(found),
                           history=user_admin.history(found, HISTORY_ROWS), audit_actions=AUDIT_ACTIONS, done=_done(),
                           error=error)


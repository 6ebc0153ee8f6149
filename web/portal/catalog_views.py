"""Home with categories and the "don't know what to pick" search, category and topic pages, ticket creation."""
from __future__ import annotations

import re
import secrets

from flask import abort, redirect, render_template, request, session, url_for

from engine import search, tickets
from engine.errors import ValidationFailed
from engine.forms import clean_field, validate_field
from web import pending
from web.auth import login_required
from web.context import catalog, current_user, locale, runtime
from web.portal.blueprint import bp
from web.uploads import uploads_from

CHANNEL = "web"
IDEMPOTENCY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_PHRASE = 200
SUGGESTIONS = 5


@bp.get("/")
@login_required
def home():
    return render_template("portal/home.html", categories=catalog().categories_for(CHANNEL))


@bp.get("/search")
@login_required
def search_topics():
    phrase = request.args.get("q", "")[:MAX_PHRASE].strip()
    found = search.suggest(catalog(), phrase, channel=CHANNEL, limit=SUGGESTIONS) if phrase else []
    template = "portal/_suggestions.html" if request.htmx else "portal/search.html"
    return render_template(template, phrase=phrase, suggestions=found)


@bp.get("/c/<category_id>")
@login_required
def category(category_id: str):
    found = catalog().category(category_id)
    if found is None or CHANNEL not in found.channels or not found.topics_for(CHANNEL):
        abort(404)
    return render_template("portal/category.html", category=found, topics=found.topics_for(CHANNEL))


@bp.route("/c/<category_id>/<topic_id>", methods=["GET", "POST"])
@login_required
def topic(category_id: str, topic_id: str):
    current = _web_topic(category_id, topic_id)
    form = catalog().form_for(current)
    if request.method == "GET":
        return _render_topic(current, form, values={}, errors={}, key=secrets.token_urlsafe(18))
    key = request.form.get("_idem", "")
    key = key if IDEMPOTENCY_RE.match(key) else None
    values = {f.id: request.form.get(f.id, "") for f in form.fields if f.type != "attachments"}
    sid, wanted = session.get("sid"), request.form.getlist(pending.KEPT_FIELD)
    files = [f for f in form.fields if f.type == "attachments"]
    # Files kept from an earlier failed attempt come first, then the ones chosen now.
    uploads = {f.id: pending.take(sid, _scope(current, f), wanted) + uploads_from(f.id) for f in files}
    try:
        ticket = tickets.create_ticket(runtime(), current_user(), current.key, values, uploads, CHANNEL,
                                       idempotency_key=key, locale=locale())
    except ValidationFailed as exc:
        for field in files:  # so the customer need not choose them again
            pending.keep(sid, _scope(current, field), field, uploads[field.id])
        return _render_topic(current, form, values, exc.errors, key or secrets.token_urlsafe(18)), 422
    pending.discard_all(sid)
    return redirect(url_for("portal.ticket", number=ticket.number), 303)


@bp.post("/c/<category_id>/<topic_id>/check/<field_id>")
@login_required
def check_field(category_id: str, topic_id: str, field_id: str):
    """Inline validation of one field as the customer leaves it (htmx)."""
    current = _web_topic(category_id, topic_id)
    form = catalog().form_for(current)
    field = form.field(field_id)
    if field is None or field.type == "attachments":
        abort(404)
    raw = request.form.get(field.id, "")
    error = validate_field(catalog(), field, raw, locale())
    hidden = _hidden_fields(form, request.form)
    dependents = [{"field": dep, "value": request.form.get(dep.id, ""), "hidden": dep.id in hidden,
                   "check_url": url_for("portal.check_field", category_id=category_id, topic_id=topic_id, field_id=dep.id)}
                  for dep in _dependents(form).get(field.id, ())]
    return render_template("portal/_field_row.html", field=field, value=raw, error=error, check_url=request.path,
                           params=_params(form).get(field.id), dependents=dependents)


def _web_topic(category_id: str, topic_id: str):
    found = catalog().topic(f"{category_id}/{topic_id}")
    if found is None or CHANNEL not in found.channels:
        abort(404)
    return found


def _dependents(form) -> dict[str, list]:
    """Controlling field id -> the fields whose visible_when looks at it."""
    out: dict[str, list] = {}
    for field in form.fields:
        if field.visible_when:
            out.setdefault(field.visible_when[0], []).append(field)
    return out


def _params(form) -> dict[str, str]:
    """hx-params of controlling fields: their own value plus their dependents' (kept when those are re-rendered)."""
    return {fid: ",".join([fid, *(d.id for d in deps)]) for fid, deps in _dependents(form).items()}


def _hidden_fields(form, raw_values) -> set[str]:
    """Fields visible_when hides for these raw values (judged on clean values, as the engine does)."""
    cleaned = {f.id: clean_field(catalog(), f, raw_values.get(f.id, ""), locale())[0]
               for f in form.fields if f.type != "attachments"}
    return {f.id for f in form.fields if not f.is_visible(cleaned)}


def _scope(current, field) -> str:
    return f"{current.key}#{field.id}"


def _render_topic(current, form, values, errors, key):
    sid = session.get("sid")
    kept = {f.id: pending.kept_files(sid, _scope(current, f)) for f in form.fields if f.type == "attachments"}
    return render_template("portal/topic.html", topic=current, category=catalog().category(current.category_id),
                           form=form, values=values, errors=errors, idempotency_key=key, kept=kept,
                           hidden=_hidden_fields(form, values), params=_params(form))

"""Home with categories and the "don't know what to pick" search, category and topic pages, ticket creation."""
from __future__ import annotations

import logging
import re

from flask import abort, make_response, redirect, render_template, request, session, url_for
from markupsafe import Markup

from engine import search, tickets
from engine.errors import StorageUnavailable, ValidationFailed
from engine.form_session import FormSession
from engine.forms import validate_field
from engine.unique_ids import unique_id
from web import field_rows, pending, search_feedback
from web.account import guard_unverified
from web.form_cache import topic_fields
from web.fragments import Remembered
from web.auth import login_required
from web.context import catalog, current_user, locale, runtime
from web.portal.blueprint import bp
from web.uploads import uploads_from

log = logging.getLogger(__name__)
CHANNEL = "web"
IDEMPOTENCY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_PHRASE = 200
MAX_LIVE_RESULTS = 2_000  # (version, locale, phrase) results of the live search kept
SUGGESTIONS = 5


@bp.get("/")
@login_required
def home():
    return render_template("portal/home.html", categories=catalog().categories_for(CHANNEL))


@bp.get("/search")
@login_required
def search_topics():
    phrase = request.args.get("q", "")[:MAX_PHRASE].strip()
    if request.htmx:  # the live search while typing: the same phrase finds and shows the same for everyone
        key = (catalog().version, locale(), phrase, request.script_root)
        found, html = _live_results.get(key, lambda: _live_result(phrase))
    else:
        found = _suggest(phrase)
        html = None
    response = make_response(html if html is not None else
                             render_template("portal/search.html", phrase=phrase, suggestions=found))
    if phrase:
        search_feedback.searched(phrase, found, not request.htmx, response)
    return response


_live_results: Remembered[tuple[list, Markup]] = Remembered(MAX_LIVE_RESULTS)


def _live_result(phrase: str) -> tuple[list, Markup]:
    found = _suggest(phrase)
    return found, Markup(render_template("portal/_suggestions.html", phrase=phrase, suggestions=found))


def _suggest(phrase: str) -> list:
    return search.suggest(catalog(), phrase, channel=CHANNEL, limit=SUGGESTIONS) if phrase else []


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
    refused = guard_unverified()
    if refused is not None:
        return refused
    if request.method == "GET":
        response = make_response(_render_topic(current, _session(current), errors={}, key=unique_id()))
        search_feedback.chose(current.key, response)
        return response
    key = request.form.get("_idem", "")
    key = key if IDEMPOTENCY_RE.match(key) else None
    form = _session(current, request.form)
    sid, wanted = session.get("sid"), request.form.getlist(pending.KEPT_FIELD)
    files = [f for f in form.fields if f.type == "attachments"]
    try:
        # Files kept from an earlier failed attempt come first, then the ones chosen now.
        uploads = {f.id: pending.take(sid, _scope(current, f), wanted) + uploads_from(f.id) for f in files}
        ticket = tickets.create_ticket(runtime(), current_user(), current.key, form.values, uploads, CHANNEL,
                                       idempotency_key=key, locale=locale())
    except StorageUnavailable as exc:  # no ticket was created; the typed values come back, files kept before stay
        log.warning("ticket not created, attachment storage unavailable: %s", exc)
        return _render_topic(current, form, {}, key or unique_id(), notice="files_not_saved"), 503
    except ValidationFailed as exc:
        for field in files:  # so the customer need not choose them again
            pending.keep(sid, _scope(current, field), field, uploads[field.id])
        return _render_topic(current, form, exc.errors, key or unique_id()), 422
    pending.discard_all(sid)
    return redirect(url_for("portal.ticket", number=ticket.number), 303)


@bp.post("/c/<category_id>/<topic_id>/check/<field_id>")
@login_required
def check_field(category_id: str, topic_id: str, field_id: str):
    """Inline validation of one field as the customer leaves it (htmx); the fields it shows or hides come along."""
    current = _web_topic(category_id, topic_id)
    fields, dependents_of, params = _structure(current)
    field = fields.get(field_id)
    if field is None or field.type == "attachments":
        abort(404)
    raw = request.form.get(field.id, "")
    error = validate_field(catalog(), field, raw, locale())
    deps = dependents_of.get(field.id, ())
    # Cleans every value: only when a field's visibility may change.
    hidden = _session(current, request.form).hidden_ids() if deps else set()
    rows = [(field, raw), *((dep, request.form.get(dep.id, "")) for dep in deps)]

    def render(value_of, error_text):
        dependents = [{"field": dep, "value": value_of(n), "hidden": dep.id in hidden, "params": params.get(dep.id),
                       "check_url": url_for("portal.check_field", category_id=category_id, topic_id=topic_id, field_id=dep.id)}
                      for n, dep in enumerate(deps, start=1)]
        return render_template("portal/_field_row.html", field=field, value=value_of(0), error=error_text,
                               check_url=request.path, params=params.get(field.id), dependents=dependents)
    key = (catalog().version, locale(), request.script_root, request.path, *(dep.id in hidden for dep in deps))
    return field_rows.filled(key, rows, error, render)


def _web_topic(category_id: str, topic_id: str):
    found = catalog().topic(f"{category_id}/{topic_id}")
    if found is None or CHANNEL not in found.channels:
        abort(404)
    return found


def _session(current, form_data=None) -> FormSession:
    """The topic's form session with the values typed in `form_data` (files are not values)."""
    form = FormSession.start(catalog(), current, CHANNEL)
    if form_data is not None:
        sent = form_data.to_dict()  # a plain dict: the form's .get raises and catches an HTTP error per missing field
        form.values.update({f.id: sent.get(f.id, "") for f in form.fields if f.type != "attachments"})
    return form


_structures: Remembered[tuple[dict, dict, dict]] = Remembered(MAX_LIVE_RESULTS)


def _structure(current) -> tuple[dict, dict, dict]:
    """The form's fields by id, dependents and hx-params (below): the same for every session of a catalog version's
    topic."""
    def structure() -> tuple[dict, dict, dict]:
        form = _session(current)
        fields: dict = {}
        for field in form.fields:
            fields.setdefault(field.id, field)  # the first of an id, as FormSession.field finds it
        return fields, form.dependents(), _params(form)
    return _structures.get((catalog().version, current.key), structure)


def _params(form: FormSession) -> dict[str, str]:
    """hx-params of controlling fields: the fields deciding their own visibility, their value and their dependents'."""
    return {fid: ",".join([*reversed(form.controllers(fid)), fid, *(d.id for d in deps)])
            for fid, deps in form.dependents().items()}


def _scope(current, field) -> str:
    return f"{current.key}#{field.id}"


def _render_topic(current, form: FormSession, errors, key, notice=None):
    sid = session.get("sid")
    kept = {f.id: pending.kept_files(sid, _scope(current, f)) for f in form.fields if f.type == "attachments"}
    fields = topic_fields(current, form, errors, kept, lambda: render_template(
        "portal/_topic_fields.html", topic=current, form=form, values=form.values, errors=errors, kept=kept,
        hidden=form.hidden_ids(), params=_params(form)))
    return render_template("portal/topic.html", topic=current, category=catalog().category(current.category_id),
                           errors=errors, idempotency_key=key, fields=fields, notice=notice)

"""Queue with whitelisted filters; ticket view; staff reply (with canned replies), internal notes, take, priority
and archive."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from markupsafe import Markup

from engine import canned_replies, invitations, notes, sla, teams, tickets
from engine.errors import InvalidValue, PermissionDenied, StorageUnavailable, TransitionRefused, ValidationFailed
from engine.store.models import User
from engine.ticket_queries import SORTS
from engine.ticket_states import ACTIVE_STATUSES, NEW, PRIORITIES, STATUSES, WAITING_SUPPORT
from web import ticket_page_cache
from web.agent.blueprint import bp
from web.account import invite_link
from web.auth import staff_required
from web.context import catalog, current_user, locale, runtime, t
from web.conversation import conversation_context, earlier_response, poll_response
from web.downloads import send_attachment
from web.fragments import Remembered
from web.list_cache import QUEUE_TAGS, current_minute, list_part
from web.paging import cursor_args
from web.uploads import uploads_from

CHANNEL = "web"
CONVERSATION = {"poll_endpoint": "agent.messages", "earlier_endpoint": "agent.earlier", "download_endpoint": "agent.download"}
# Filter values map to fixed status tuples: nothing from the query string reaches a query unchecked.
STATUS_FILTERS = {"open": (NEW, WAITING_SUPPORT), "all": ACTIVE_STATUSES, **{s: (s,) for s in STATUSES}}
ASSIGNEE_FILTERS = ("", "me", "nobody")
MAX_FILTER_FORMS = 2_000  # (version, locale, chosen filters) entries kept; the least recently shown go first

_filter_forms: Remembered[Markup] = Remembered(MAX_FILTER_FORMS)


@bp.get("/")
@staff_required
def queue():
    status = request.args.get("status") or "open"
    category_id = request.args.get("category") or ""
    topic_id = request.args.get("topic") or ""
    sort = request.args.get("sort") or ("breach" if catalog().sla else "priority")
    if status not in STATUS_FILTERS or sort not in SORTS or (category_id and catalog().category(category_id) is None):
        abort(400)
    if topic_id and (not category_id or catalog().topic(f"{category_id}/{topic_id}") is None):
        abort(400)
    team, assignee, chosen_teams = team_and_assignee_args(default_team="mine")
    agent, cursors = current_user(), cursor_args()
    tickets.require_staff(agent)
    filters = {"status": status, "category": category_id, "topic": topic_id, "sort": sort, "team": team, "assignee": assignee}

    def render() -> str:
        page = tickets.staff_ticket_page(agent, statuses=STATUS_FILTERS[status], category_id=category_id,
                                         topic_id=topic_id, sort=sort, teams=chosen_teams, assignee=assignee, **cursors)
        now = runtime().clock()
        to_breach = {row.id: sla.time_to_breach(catalog(), row, now) for row in page.rows} if catalog().sla else None
        return render_template("agent/_queue_table.html", page=page, filters=filters, to_breach=to_breach)
    # The queue shows every agent the same tickets: its key names the agent only where "assigned to me" does.
    parameters = (*filters.values(), chosen_teams, agent.id if assignee == "me" else None, cursors["after"],
                  cursors["before"], current_minute() if catalog().sla else None)
    table = list_part("queue", parameters, QUEUE_TAGS, render)
    if request.htmx:
        return table
    return render_template("agent/queue.html", queue_table=table, filter_form=_filter_form(filters))


def _filter_form(filters: dict) -> Markup:
    """The queue's filter form with `filters` chosen: it shows only the catalog (version), the locale and the
    choices, so it is rendered once per those (a reload brings a new version: nothing to invalidate)."""
    key = (catalog().version, locale(), request.script_root, *filters.values())
    return _filter_forms.get(key, lambda: Markup(render_template(
        "agent/_queue_filters.html", filters=filters, status_filters=STATUS_FILTERS, sorts=SORTS,
        assignee_filters=ASSIGNEE_FILTERS)))


def team_and_assignee_args(default_team: str) -> tuple[str, str, tuple[str, ...] | None]:
    """The request's team ("mine", "all" or a team id; without one `default_team`, "all" for an agent in no team) and
    assignee ("", "me", "nobody") filters, and the team ids they choose (None: every team); 400 for anything else."""
    mine = teams.team_ids_of(catalog(), current_user())
    team = request.args.get("team") or (default_team if mine else "all")
    assignee = request.args.get("assignee") or ""
    if (team not in ("mine", "all") and team not in catalog().teams) or assignee not in ASSIGNEE_FILTERS:
        abort(400)
    return team, assignee, {"mine": mine, "all": None}.get(team, (team,))


@bp.get("/tickets/<id:number>")
@staff_required
def ticket(number):
    """The page as stored (web/ticket_page_cache.py) for this agent, else read, rendered and stored; staff_required
    has checked the viewer's role for this request (staff see every ticket)."""
    key = ticket_page_cache.page_key("agent", number, current_user())
    page = ticket_page_cache.cached(key) if request.args.get("invited") != "1" else None  # the notice: this request's
    if page is not None:
        return ticket_page_cache.shown(page)
    token = ticket_page_cache.token()
    return _render_ticket(tickets.staff_ticket(current_user(), number), store=(key, token))


@bp.get("/tickets/<id:number>/messages")
@staff_required
def messages(number):
    found = tickets.staff_ticket(current_user(), number)
    return poll_response(found, CONVERSATION, internal=True)


@bp.get("/tickets/<id:number>/messages/earlier")
@staff_required
def earlier(number):
    found = tickets.staff_ticket(current_user(), number)
    return earlier_response(found, CONVERSATION, lambda before: _render_ticket(found, before=before), internal=True)


@bp.post("/tickets/<id:number>/reply")
@staff_required
def reply(number):
    found = tickets.staff_ticket(current_user(), number)
    body = request.form.get("message", "")
    try:
        tickets.add_reply(runtime(), found, current_user(), body, uploads_from("attachments"), CHANNEL)
    except StorageUnavailable:  # nothing was added; the typed text comes back
        return _render_ticket(found, errors={"attachments": t("files_not_saved")}, body=body), 503
    except ValidationFailed as exc:
        return _render_ticket(found, errors=exc.errors, body=body), 422
    except TransitionRefused as exc:
        return _render_ticket(found, refused=str(exc)), 409
    return redirect(url_for("agent.ticket", number=found.number), 303)


@bp.post("/tickets/<id:number>/canned/<reply_id>")
@staff_required
def insert_canned(number, reply_id):
    """htmx: the reply box's text with the canned reply, rendered for this ticket, added after what is typed."""
    found = tickets.staff_ticket(current_user(), number)
    typed = request.form.get("message", "").rstrip()
    try:
        text = canned_replies.render_reply(catalog(), reply_id, found, current_user())
    except ValidationFailed as exc:
        return render_template("agent/_canned_inserted.html", body=typed, errors=exc.errors)
    return render_template("agent/_canned_inserted.html", body=f"{typed}\n\n{text}" if typed else text, errors={})


@bp.post("/tickets/<id:number>/note")
@staff_required
def note(number):
    found = tickets.staff_ticket(current_user(), number)
    body = request.form.get("note", "")
    try:
        notes.add_note(runtime(), found, current_user(), body, CHANNEL)
    except ValidationFailed as exc:
        return _render_ticket(found, errors=exc.errors, note_body=body), 422
    return redirect(url_for("agent.ticket", number=found.number), 303)


@bp.post("/tickets/<id:number>/take")
@staff_required
def take(number):
    found = tickets.staff_ticket(current_user(), number)
    return _transition(found, lambda: tickets.take_ticket(runtime(), found, current_user()))


@bp.post("/tickets/<id:number>/priority")
@staff_required
def priority(number):
    found = tickets.staff_ticket(current_user(), number)
    value = _choice("priority", PRIORITIES)
    return _transition(found, lambda: tickets.set_priority(runtime(), found, current_user(), value))


@bp.post("/tickets/<id:number>/archive")
@staff_required
def archive(number):
    found = tickets.staff_ticket(current_user(), number)
    return _transition(found, lambda: tickets.archive_ticket(runtime(), found, current_user(), request.form.get("comment", "").strip()))


@bp.post("/tickets/<id:number>/team")
@staff_required
def move(number):
    """Move the ticket to another team (htmx: the assignment card again)."""
    found = tickets.staff_ticket(current_user(), number)
    team_id = _choice("team", catalog().teams)
    return _assignment(found, lambda: tickets.move_ticket(runtime(), found, current_user(), team_id))


@bp.post("/tickets/<id:number>/assignee")
@staff_required
def assign(number):
    """Assign the ticket to a colleague, or to nobody (an empty choice); htmx: the assignment card again."""
    found = tickets.staff_ticket(current_user(), number)
    chosen = request.form.get("assignee", "")
    assignee = None
    if chosen:
        assignee = User.get_or_none(User.id == int(chosen)) if chosen.isdigit() and len(chosen) < 19 else None
        if assignee is None:
            abort(400)
    return _assignment(found, lambda: tickets.assign_ticket(runtime(), found, current_user(), assignee))


@bp.post("/tickets/<id:number>/invite")
@staff_required
def invite(number):
    """Invite the customer of a ticket that came without a web account (events API, Telegram) at an email address."""
    found = tickets.staff_ticket(current_user(), number)
    email = request.form.get("email", "").strip()[:254]
    try:
        invitations.invite_ticket_customer(runtime(), found, email, current_user(), invite_link)
    except InvalidValue as exc:
        error = catalog().text(locale(), "validation", exc.key, **exc.params)
        return _render_ticket(found, invite_error=error, invite_email=email), 422
    return redirect(url_for("agent.ticket", number=found.number, invited=1), 303)


@bp.get("/tickets/<id:number>/files/<id:attachment_id>")
@staff_required
def download(number, attachment_id):
    found = tickets.staff_ticket(current_user(), number)
    return send_attachment(tickets.ticket_attachment(found, attachment_id))


def _choice(name: str, allowed) -> str:
    """The posted value of `name` when it is one of `allowed`; 400 otherwise."""
    value = request.form.get(name, "")
    if value not in allowed:
        abort(400)
    return value


def _assignment(found, action):
    """Run an assignment change; the card (htmx) or the page again, with the refusal and its status when refused."""
    refused, status = None, 200
    try:
        action()
    except TransitionRefused as exc:
        refused, status = str(exc), 409
    except ValidationFailed as exc:
        refused, status = next(iter(exc.errors.values())), 422
    except PermissionDenied:
        abort(400)
    if not request.htmx:
        if refused:
            return _render_ticket(found, refused=refused), status
        return redirect(url_for("agent.ticket", number=found.number), 303)
    found = tickets.staff_ticket(current_user(), found.number)
    return render_template("agent/_assignment.html", ticket=found, assign_error=refused, **_assignment_context(found)), status


def _assignment_context(found) -> dict:
    """What the assignment card shows: the teams, the colleagues one may assign to, the ticket's history."""
    snapshot = catalog()
    return {"teams_all": snapshot.teams, "colleagues": teams.assignee_choices(snapshot, found.team),
            "history": tickets.ticket_history(found)}


def _transition(found, action):
    try:
        action()
    except TransitionRefused as exc:
        return _render_ticket(found, refused=str(exc)), 409
    return redirect(url_for("agent.ticket", number=found.number), 303)


def _render_ticket(found, errors=None, body="", refused=None, before=None, note_body="", invite_error=None,
                   invite_email="", store=None):
    """The page; stored under `store` = (key, token) when it shows nothing of this request's (web/ticket_page_cache.py)
    until its SLA targets' text would change."""
    customer = found.customer
    invited = request.args.get("invited") == "1"
    if errors or body or refused or before is not None or note_body or invite_error or invite_email or invited:
        store = None
    targets = sla.ticket_targets(catalog(), found, runtime().clock())
    return ticket_page_cache.rendered(
        "agent/_ticket_content.html", found,
        {"fields": tickets.field_rows(found), "customer": customer,
         "invitable": invitations.enabled(runtime()) and invitations.pending(customer), "invite_error": invite_error,
         "invite_email": invite_email, "invited": invited, **conversation_context(found, CONVERSATION, before, internal=True),
         "errors": errors or {}, "body": body, "refused": refused, "note_body": note_body,
         "canned": canned_replies.offered(catalog(), found), "sla_targets": targets, "priorities": PRIORITIES,
         "reply_url": url_for("agent.reply", number=found.number), **_assignment_context(found)},
        store, ticket_page_cache.shown_until(targets))

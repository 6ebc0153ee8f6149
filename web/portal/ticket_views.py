"""The customer's tickets: lists, the ticket page with its conversation, replies, archiving, file downloads."""
from __future__ import annotations

from flask import redirect, render_template, request, session, url_for

from engine import tickets
from engine.errors import StorageUnavailable, TransitionRefused, ValidationFailed
from web.auth import login_required
from web import pending, ticket_page_cache
from web.context import current_user, reply_files, runtime, t
from web.conversation import conversation_context, earlier_response, poll_response
from web.downloads import send_attachment
from web.list_cache import CUSTOMER_LIST_TAGS, list_part
from web.paging import cursor_args
from web.portal.blueprint import bp
from web.uploads import uploads_from

CHANNEL = "web"
CONVERSATION = {"poll_endpoint": "portal.messages", "earlier_endpoint": "portal.earlier", "download_endpoint": "portal.download"}


@bp.get("/tickets", endpoint="tickets")
@login_required
def tickets_list():
    return _render_list(archive=False)


@bp.get("/tickets/archive")
@login_required
def archive():
    return _render_list(archive=True)


def _render_list(archive: bool):
    """My tickets or the archive: the list part (rows, total, pager) of the signed-in customer's own tickets comes
    from the list cache while nothing it shows changed (web.list_cache)."""
    customer, cursors = current_user(), cursor_args()

    def render() -> str:
        page = tickets.customer_ticket_page(customer, active=not archive, **cursors)
        return render_template("portal/_ticket_list.html", page=page, archive=archive)
    ticket_list = list_part("archive" if archive else "tickets", (customer.id, cursors["after"], cursors["before"]),
                            CUSTOMER_LIST_TAGS, render)
    return render_template("portal/tickets.html", ticket_list=ticket_list, archive=archive)


@bp.get("/tickets/<id:number>")
@login_required
def ticket(number):
    """The page as stored (web/ticket_page_cache.py) for its own customer, else read, rendered and stored."""
    user = current_user()
    key = ticket_page_cache.page_key("portal", number, user)
    page = ticket_page_cache.cached(key)
    if page is not None and page.owner_id == user.id and not _kept(page.ticket_id):
        return ticket_page_cache.shown(page)
    token = ticket_page_cache.token()
    found = tickets.customer_ticket(user, number)  # NotFound for someone else's ticket
    return _render_ticket(found, store=(key, token))


@bp.get("/tickets/<id:number>/messages")
@login_required
def messages(number):
    """htmx polling: the conversation when it has news since `after`, else 204 (nothing to swap)."""
    found = tickets.customer_ticket(current_user(), number)
    return poll_response(found, CONVERSATION)


@bp.get("/tickets/<id:number>/messages/earlier")
@login_required
def earlier(number):
    """The messages before `before`: a fragment for htmx, else the ticket page showing them."""
    found = tickets.customer_ticket(current_user(), number)
    return earlier_response(found, CONVERSATION, lambda before: _render_ticket(found, before=before))


@bp.post("/tickets/<id:number>/reply")
@login_required
def reply(number):
    found = tickets.customer_ticket(current_user(), number)
    sid, scope = session.get("sid"), _scope(found.id)
    try:
        # Files kept from an earlier failed attempt come first, then the ones chosen now.
        uploads = pending.take(sid, scope, request.form.getlist(pending.KEPT_FIELD)) + uploads_from("attachments")
        tickets.add_reply(runtime(), found, current_user(), request.form.get("message", ""), uploads, CHANNEL)
    except StorageUnavailable:  # nothing was added; the typed text comes back, files kept before stay
        body = request.form.get("message", "")
        return _render_ticket(found, errors={"attachments": t("files_not_saved")}, body=body), 503
    except ValidationFailed as exc:
        pending.keep(sid, scope, reply_files(), uploads)  # not to be chosen again
        return _render_ticket(found, errors=exc.errors, body=request.form.get("message", "")), 422
    except TransitionRefused as exc:
        return _render_ticket(found, refused=str(exc)), 409
    pending.discard_all(sid)
    return redirect(url_for("portal.ticket", number=found.number, _anchor="reply"), 303)


@bp.post("/tickets/<id:number>/archive")
@login_required
def archive_ticket(number):
    found = tickets.customer_ticket(current_user(), number)
    try:
        tickets.archive_ticket(runtime(), found, current_user(), "customer")
    except TransitionRefused as exc:
        return _render_ticket(found, refused=str(exc)), 409
    return redirect(url_for("portal.ticket", number=found.number), 303)


@bp.get("/tickets/<id:number>/files/<id:attachment_id>")
@login_required
def download(number, attachment_id):
    found = tickets.customer_ticket(current_user(), number)
    return send_attachment(tickets.ticket_attachment(found, attachment_id))


def _scope(ticket_id: int) -> str:
    return f"reply:{ticket_id}"


def _kept(ticket_id: int) -> list:
    """The files this session kept from a failed reply to the ticket (shown in its reply box)."""
    return pending.kept_files(session.get("sid"), _scope(ticket_id))


def _render_ticket(found, errors=None, body="", refused=None, before=None, store=None):
    """The page; stored under `store` = (key, token) when it shows nothing of this request's (web/ticket_page_cache.py)."""
    kept = _kept(found.id)
    if errors or body or refused or before is not None or kept:
        store = None
    return ticket_page_cache.rendered(
        "portal/_ticket_content.html", found,
        {"fields": tickets.field_rows(found), **conversation_context(found, CONVERSATION, before),
         "errors": errors or {}, "body": body, "refused": refused, "kept": kept}, store)

"""The customer's tickets: lists, the ticket page with its conversation, replies, archiving, file downloads."""
from __future__ import annotations

from flask import redirect, render_template, request, session, url_for

from engine import tickets
from engine.errors import StorageUnavailable, TransitionRefused, ValidationFailed
from web.auth import login_required
from web import pending
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
    found = tickets.customer_ticket(current_user(), number)
    return _render_ticket(found)


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
    sid, scope = session.get("sid"), _scope(found)
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


def _scope(found) -> str:
    return f"reply:{found.id}"


def _render_ticket(found, errors=None, body="", refused=None, before=None):
    kept = pending.kept_files(session.get("sid"), _scope(found))
    return render_template("portal/ticket.html", ticket=found, fields=tickets.field_rows(found),
                           **conversation_context(found, CONVERSATION, before), errors=errors or {}, body=body,
                           refused=refused, kept=kept)

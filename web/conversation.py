"""The conversation of a ticket as both the portal and the agent console show it: its latest messages first, earlier
ones on demand, and a 4-second htmx poll that costs one indexed query while nothing is new (204)."""
from __future__ import annotations

from flask import render_template, request

from engine import tickets


def conversation_context(ticket, endpoints: dict, before: int | None = None, internal: bool = False) -> dict:
    """Template variables of _conversation.html: the latest page of messages (or the page before message `before`).
    `internal`: with staff-only notes (the agent console only), here and in the two functions below."""
    messages, has_earlier = tickets.latest_messages(ticket, before, internal=internal)
    return {"conversation": messages, "has_earlier": has_earlier, "live": before is None, **endpoints}


def poll_response(ticket, endpoints: dict, internal: bool = False):
    """Messages newer than `after`, appended to the list out of band with a fresh poller; 204 when there are none.
    Without `after`: the whole conversation section."""
    after = request.args.get("after", type=int)
    if after is None:
        return render_template("_conversation.html", ticket=ticket, **conversation_context(ticket, endpoints, internal=internal))
    if tickets.last_message_id(ticket, internal=internal) <= after:
        return "", 204
    return render_template("_conversation_news.html", ticket=ticket, conversation=tickets.messages_after(ticket, after, internal=internal),
                           **endpoints)


def earlier_response(ticket, endpoints: dict, full_page, internal: bool = False):
    """The messages before message `before`: list items replacing the "earlier" link for htmx; otherwise
    `full_page(before)`, the ticket page showing that stretch of the conversation."""
    before = request.args.get("before", type=int)
    if not request.htmx:
        return full_page(before)
    messages, has_earlier = tickets.latest_messages(ticket, before, internal=internal)
    return render_template("_conversation_messages.html", ticket=ticket, conversation=messages, has_earlier=has_earlier,
                           **endpoints)

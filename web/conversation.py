"""The conversation fragment both the portal and the agent console poll (htmx; 204 when nothing is new)."""
from __future__ import annotations

from flask import render_template, request

from engine import tickets


def poll_response(ticket, endpoints: dict, internal: bool = False):
    """New messages since `after` re-render the conversation; otherwise 204 tells htmx to leave it as is.
    `internal`: with staff-only notes (the agent console only)."""
    conversation = tickets.ticket_messages(ticket, internal=internal)
    after = request.args.get("after", type=int)
    if conversation and after is not None and conversation[-1].id <= after:
        return "", 204
    return render_template("_conversation.html", ticket=ticket, conversation=conversation, **endpoints)

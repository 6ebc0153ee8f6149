"""Internal notes: staff-only messages on a ticket. No status change, no notification, no customer ever sees one
(`engine.ticket_queries.ticket_messages` leaves them out unless asked for the agent console)."""
from __future__ import annotations

from engine.errors import ValidationFailed
from engine.form_session import reply_fields
from engine.forms import clean_field
from engine.runtime import Runtime
from engine.store.models import AuditLog, Message, Ticket, User
from engine.ticket_queries import require_staff


def add_note(rt: Runtime, ticket: Ticket, author: User, body: str, channel: str) -> Message:
    """Add a staff-only note (text, under the reply's length limit) to any ticket, archived ones too."""
    require_staff(author)
    catalog = rt.catalog
    locale = author.locale or catalog.policies.default_locale
    body_field, _ = reply_fields(catalog)
    text, error = clean_field(catalog, body_field, body, locale)
    if not error and not text:
        error = catalog.text(locale, "validation", "required")
    if error:
        raise ValidationFailed({"note": error})
    with rt.db.atomic():
        note = Message.create(ticket=ticket, author=author, author_kind="agent", channel=channel, body=text,
                              internal=True, created_at=rt.clock())
        AuditLog.create(actor=author, action="internal_note", detail={"ticket": ticket.number, "message": note.id})
    return note

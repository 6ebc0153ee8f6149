"""Canned replies on a ticket: which the catalog offers for it, and one rendered with the ticket's params."""
from __future__ import annotations

from engine.catalog import Catalog
from engine.catalog.replies import CannedReply
from engine.catalog.templates import TEMPLATE_ENV
from engine.catalog.texts import in_locale
from engine.errors import NotFound, ValidationFailed
from engine.store.models import Ticket, User
from engine.ticket_queries import field_values, require_staff, ticket_titles


def offered(catalog: Catalog, ticket: Ticket) -> tuple[CannedReply, ...]:
    """The canned replies for this ticket's topic (a topic removed from the config still gets the general ones)."""
    return catalog.replies_for(ticket.category_id, ticket.topic_id)


def reply_params(catalog: Catalog, ticket: Ticket, agent: User) -> dict:
    """The params a canned reply's body is rendered with (engine.catalog.replies.REPLY_PARAMS), titles in the
    customer's locale."""
    customer = ticket.customer
    topic, category = ticket_titles(catalog, ticket, _locale(catalog, customer))
    return {
        "customer_name": customer.name or "",
        "ticket_number": ticket.number,
        "subject": ticket.subject,
        "topic": topic,
        "category": category,
        "priority": ticket.priority,
        "fields": field_values(ticket),
        "agent_name": agent.name or agent.email,
    }


def _locale(catalog: Catalog, user: User) -> str:
    return user.locale or catalog.policies.default_locale


def render_reply(catalog: Catalog, reply_id: str, ticket: Ticket, agent: User) -> str:
    """The reply's text for this ticket in the customer's locale, for staff to edit before sending; NotFound when it
    is not offered here, ValidationFailed({"message": why}) when its template fails on these values (in the agent's
    language)."""
    require_staff(agent)
    reply = next((r for r in offered(catalog, ticket) if r.id == reply_id), None)
    if reply is None:
        raise NotFound(f"canned reply {reply_id!r}")
    try:
        body = in_locale(reply.body, _locale(catalog, ticket.customer))
        return TEMPLATE_ENV.from_string(body).render(reply_params(catalog, ticket, agent)).strip()
    except Exception as exc:  # the config's template failing on these values (a zero, a wrong type, the sandbox)
        locale = _locale(catalog, agent)
        why = catalog.text(locale, "validation", "canned_reply_failed", title=in_locale(reply.title, locale), error=str(exc))
        raise ValidationFailed({"message": why}) from exc

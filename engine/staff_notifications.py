"""Agent notifications (`source: staff` types): a new ticket in a team, a customer's reply. Written inside the
cause's transaction, like the customer's, each with an idempotency key, so a retried transaction or a repeated
call writes nothing twice; the outbox then delivers each row once (engine.delivery)."""
from __future__ import annotations

from engine import notify, teams
from engine.catalog import Catalog
from engine.store.models import Message, Ticket, User
from engine.ticket_notifications import params_of

TEAM_TICKET = "team_ticket_created"
CUSTOMER_REPLIED = "customer_replied"


def _params(catalog: Catalog, type_id: str, ticket: Ticket, **extra) -> dict:
    """The params the type declares, out of those the engine passes with it (params_of)."""
    team = catalog.teams.get(ticket.team) if ticket.team else None
    customer = ticket.customer
    every = {"ticket_number": ticket.number, "subject": ticket.subject, "topic": ticket.snapshot.get("topic_title", ""),
             "category": ticket.snapshot.get("category_title", ""), "team": str(team.title) if team else "",
             "customer": customer.name or customer.email, "priority": ticket.priority, **extra}
    assert set(every) == set(params_of(type_id)), f"{type_id}: update engine/ticket_notifications.py"
    declared = catalog.notification_types[type_id].params
    return {k: v for k, v in every.items() if k in declared}


def _to_team(catalog: Catalog, type_id: str, ticket: Ticket, key: str, sent: list[int], skip: User | None = None,
             **extra) -> None:
    """The team's members (but `skip`, who caused it) and the team's own addresses."""
    team = catalog.teams.get(ticket.team) if ticket.team else None
    if type_id not in catalog.notification_types or team is None:
        return
    params = _params(catalog, type_id, ticket, **extra)
    for member in teams.members(catalog, team.id):
        if skip is None or member.id != skip.id:
            sent.append(notify.notify(catalog, member, type_id, params, ticket=ticket,
                                      idempotency_key=f"{key}:user:{member.id}").id)
    if team.notify:
        sent.append(notify.notify_addresses(catalog, teams.team_account(team), type_id, params, dict(team.notify),
                                            ticket=ticket, idempotency_key=f"{key}:team:{team.id}").id)


def new_in_team(catalog: Catalog, ticket: Ticket, key: str, sent: list[int], actor: User | None = None,
                first_message: str | None = None) -> None:
    """A ticket was created in its team, or `actor` moved it there: tell the team. `key` names the cause;
    `first_message`: the ticket's first message's body when the caller has it (read otherwise)."""
    if first_message is None:
        first = Message.select(Message.body).where(Message.ticket == ticket).order_by(Message.id).first()
        first_message = first.body if first else ""
    _to_team(catalog, TEAM_TICKET, ticket, key, sent, skip=actor, message=first_message)


def customer_replied(catalog: Catalog, ticket: Ticket, message: Message, sent: list[int]) -> None:
    """The customer replied: the assignee is told; nobody assigned, the team."""
    if CUSTOMER_REPLIED not in catalog.notification_types:
        return
    key = f"message:{message.id}:staff"
    assignee = User.get_or_none((User.id == ticket.assignee_id) & User.is_active) if ticket.assignee_id else None
    if assignee is None:
        _to_team(catalog, CUSTOMER_REPLIED, ticket, key, sent, reply=message.body)
        return
    params = _params(catalog, CUSTOMER_REPLIED, ticket, reply=message.body)
    sent.append(notify.notify(catalog, assignee, CUSTOMER_REPLIED, params, ticket=ticket,
                              idempotency_key=f"{key}:user:{assignee.id}").id)

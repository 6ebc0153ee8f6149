"""The rows of the ticket lists (my tickets and the archive, the agents' queue) as template globals written in Python:
per row Jinja paid a `Context.call` for each helper and link, a lookup per attribute and an escape per output, about
as much as the row's data; here a page's rows are one call. The markup is what the templates wrote, escaped the
same way (`escape`; catalog texts in the page's locale as the environment's `finalize` gives them)."""
from __future__ import annotations

from typing import Callable

from flask import Flask
from markupsafe import Markup, escape

from engine.catalog.texts import LocalText
from web.context import catalog, locale, time_zone
from web.display import priority_badge_in, sla_left_in, status_badge_in, time_tag_in


def ticket_links(url_for, endpoint: str) -> Callable[[int], str]:
    """`number -> escaped url_for(endpoint, number=number)` for a page's rows: a ticket's URL ends with its number, so
    the rest is built once per page (any other shape is built per row)."""
    sample = url_for(endpoint, number=1)
    if not sample.endswith("/1"):
        return lambda number: escape(url_for(endpoint, number=number))
    base = escape(sample[:-1])
    return lambda number: f"{base}{int(number)}"


def customer_rows(tickets, url_for) -> Markup:
    """The `<tr>`s of a customer's list: number and subject linking to the ticket, topic and category, status, time."""
    out = []
    current, viewer_locale, zone = catalog(), locale(), time_zone()
    link = ticket_links(url_for, "portal.ticket")
    for ticket in tickets:
        href = link(ticket.number)
        snapshot = ticket.snapshot
        out.append(
            f'  <tr>\n'
            f'    <td><a href="{href}">#{escape(ticket.number)}</a></td>\n'
            f'    <td><a href="{href}">{escape(ticket.subject)}</a></td>\n'
            f'    <td>{escape(snapshot.get("topic_title", ""))}<br><span class="hint">'
            f'{escape(snapshot.get("category_title", ""))}</span></td>\n'
            f'    <td>{status_badge_in(current, viewer_locale, ticket.status, False)}</td>\n'
            f'    <td>{time_tag_in(ticket.updated_at, zone, viewer_locale)}</td>\n'
            f'  </tr>\n')
    return Markup("".join(out))


def queue_rows(tickets, url_for, teams, to_breach) -> Markup:
    """The `<tr>`s of the agents' queue; `teams`: the catalog's, `to_breach`: SLA time left by ticket id, or None
    for no SLA column."""
    out = []
    current, viewer_locale, zone = catalog(), locale(), time_zone()
    link = ticket_links(url_for, "agent.ticket")
    for ticket in tickets:
        href = link(ticket.number)
        snapshot = ticket.snapshot
        customer = ticket.customer
        team = ""
        if ticket.team:
            title = teams[ticket.team].title if ticket.team in teams else ticket.team
            team = escape(title.in_(viewer_locale) if isinstance(title, LocalText) else title)
        assignee = ""
        if ticket.assignee_id:
            assignee = escape(ticket.assignee.name or ticket.assignee.email)
        sla = ("" if to_breach is None
               else f'\n    <td class="sla-left">{sla_left_in(current, viewer_locale, to_breach[ticket.id])}</td>')
        out.append(
            f'  <tr>\n'
            f'    <td><a href="{href}">#{escape(ticket.number)}</a></td>\n'
            f'    <td>{priority_badge_in(current, viewer_locale, ticket.priority)}</td>\n'
            f'    <td><a href="{href}">{escape(ticket.subject)}</a></td>\n'
            f'    <td>{escape(snapshot.get("topic_title", ""))}<br><span class="hint">'
            f'{escape(snapshot.get("category_title", ""))}</span></td>\n'
            f'    <td>{escape(customer.name or customer.email)}</td>\n'
            f'    <td>{status_badge_in(current, viewer_locale, ticket.status, True)}</td>\n'
            f'    <td>{team}</td>\n'
            f'    <td>{assignee}</td>\n'
            f'    <td>{time_tag_in(ticket.updated_at, zone, viewer_locale)}</td>{sla}\n'
            f'  </tr>\n')
    return Markup("".join(out))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(customer_rows=customer_rows, queue_rows=queue_rows)

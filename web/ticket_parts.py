"""The ticket page's repeated parts as template globals written in Python (as web/list_rows.py does for list rows):
a conversation's messages, the ticket's header, the agent's assignment card's forms, choices and history, canned replies
and SLA targets. Per message Jinja paid a `Context.call` for each helper and text, a lookup per attribute and an
escape per output, more than the message's data cost to fetch. The markup is what the templates wrote (whitespace
between tags aside), escaped the same way; texts come from the page's own `t`, bound to its catalog and locale (the
request's values cost a context-local lookup each). And the reply box's file field, the same on every page of a
catalog version and locale, rendered once."""
from __future__ import annotations

from flask import Flask, render_template
from jinja2 import pass_context
from markupsafe import Markup, escape

from engine.catalog.texts import LocalText
from web.context import catalog, locale, time_zone
from web.display import priority_badge_in, sla_left_in, status_badge_in, time_tag_in
from web.fragments import Remembered

_reply_files: Remembered[Markup] = Remembered(64)  # (catalog version, locale): a reload brings new keys


@pass_context
def message_items(context, conversation, ticket_number: int, download_endpoint: str, url_for) -> Markup:
    """The `<li>` of each message, oldest first: author, time, channel, body and attached files."""
    text, zone, chosen = context["t"], time_zone(), _locale(context)
    out = []
    for message in conversation:
        internal = message.internal
        out.append(f'<li class="message message-{escape(message.author_kind)}'
                   f'{" message-internal" if internal else ""}" id="m{message.id}">\n  <div class="message-meta">\n')
        if internal:
            out.append(f'    <span class="badge badge-internal">{escape(text("note_badge"))}</span>\n')
        out.append(f'    <strong>{escape(_author(message, text))}</strong>\n'
                   f'    {time_tag_in(message.created_at, zone, chosen)}\n'
                   f'    <span class="hint">{escape(text("via_" + message.channel))}</span>\n  </div>\n')
        if message.body:
            out.append(f'  <div class="message-body">{escape(message.body)}</div>\n')
        if message.attachments:
            out.append(_attachment_links(message.attachments, download_endpoint, ticket_number, url_for, text))
        out.append('</li>\n')
    return Markup("".join(out))


def _author(message, text) -> str:
    """Who wrote a message as the viewer reads it: the customer by name, a note's author, else "support" or "system"."""
    author = message.author
    if message.author_kind == "customer":
        return (author.name or author.email) if author else text("author_customer")
    if message.internal and author:
        return author.name or author.email
    return text("author_support" if message.author_kind == "agent" else "author_system")


def _attachment_links(files, endpoint: str, number: int, url_for, text) -> str:
    """The files of a message as download links with their sizes (the `attachment_links` macro of _macros.html)."""
    items = "".join(
        f'  <li><a href="{escape(url_for(endpoint, number=number, attachment_id=file.id))}" download>'
        f'{escape(file.original_name)}</a>\n'
        f'    <span class="hint">{escape(text("file_size_kb", kb=(file.size + 1023) // 1024))}</span></li>\n'
        for file in files)
    return f'  <ul class="files">\n{items}</ul>\n'


@pass_context
def ticket_header(context, ticket, staff: bool) -> Markup:
    """Number, subject, status and where the ticket was filed; `staff` adds priority and channel."""
    text, shown, chosen = context["t"], _catalog(context), _locale(context)
    badges = status_badge_in(shown, chosen, ticket.status, staff)
    if staff:
        badges = f"{badges} {priority_badge_in(shown, chosen, ticket.priority)}"
    snapshot = ticket.snapshot
    via = f" · {escape(text('via_' + ticket.channel))}" if staff else ""
    created = time_tag_in(ticket.created_at, time_zone(), chosen)
    return Markup(
        f'<h1><span class="ticket-number">#{ticket.number}</span> {escape(ticket.subject)}</h1>\n'
        f'<p class="ticket-meta">\n  {badges}\n'
        f'  <span>{escape(snapshot.get("category_title", ""))} › {escape(snapshot.get("topic_title", ""))}</span>\n'
        f'  <span class="hint">{escape(text("created_at"))} {created}{via}</span>\n</p>\n')


@pass_context
def team_options(context, ticket, teams) -> Markup:
    """The `<option>`s of the team a ticket may move to (`teams`: the catalog's), its own selected; a ticket without
    a team, or of a team the config dropped, shows that first."""
    chosen = _locale(context)
    out = []
    if not ticket.team:
        out.append(f'<option value="" selected disabled>{escape(context["t"]("team_none"))}</option>')
    elif ticket.team not in teams:
        out.append(f'<option value="" selected disabled>{escape(ticket.team)}</option>')
    for team in teams.values():
        selected = "selected" if ticket.team == team.id else ""
        out.append(f'<option value="{escape(team.id)}" {selected}>{escape(_in(team.title, chosen))}</option>')
    return Markup("".join(out))


@pass_context
def choice_form(context, url: str, name: str, label: str, button: str, options: Markup) -> Markup:
    """One of the assignment card's forms (move to a team, assign): a labelled `<select>` of `options` and its button,
    posting to `url` and swapping the card in place (htmx). The CSRF token is the page's `csrf_token()` (a marker
    where web/ticket_page_cache.py renders the page)."""
    url, name = escape(url), escape(name)
    return Markup(f'<form method="post" action="{url}" hx-post="{url}"\n'
                  f'        hx-target="#assignment" hx-swap="outerHTML" hx-disabled-elt="find button" class="field">\n'
                  f'    <input type="hidden" name="_csrf" value="{escape(context["csrf_token"]())}">\n'
                  f'    <label for="{name}">{escape(label)}</label>\n'
                  f'    <div class="search-row">\n'
                  f'      <select id="{name}" name="{name}">{options}</select>\n'
                  f'      <button type="submit" class="button">{escape(button)}</button>\n'
                  f'    </div>\n  </form>')


@pass_context
def assignee_options(context, ticket, colleagues) -> Markup:
    """The `<option>`s of whom a ticket may be assigned to: nobody, then `colleagues`; its assignee selected."""
    nobody = "selected" if not ticket.assignee_id else ""
    out = [f'<option value="" {nobody}>{escape(context["t"]("assignee_nobody"))}</option>\n']
    for user in colleagues:
        selected = "selected" if ticket.assignee_id == user.id else ""
        out.append(f'<option value="{user.id}" {selected}>{escape(user.name or user.email)}</option>')
    return Markup("".join(out))


@pass_context
def history_items(context, history, teams) -> Markup:
    """The `<li>` of each change of a ticket (engine.ticket_queries.ticket_history): when, who, what from and to;
    statuses and priorities in words, teams by title."""
    text, zone, chosen = context["t"], time_zone(), _locale(context)
    out = []
    for entry in history:
        kind, old, new = entry.kind, entry.old, entry.new
        if kind == "status":
            old, new = (text(f"staff_status_{old}") if old else "—"), text(f"staff_status_{new}")
        elif kind == "priority":
            old, new = text(f"priority_{old}"), text(f"priority_{new}")
        elif kind == "team":
            old = teams[old].title if old in teams else old or "—"
            new = teams[new].title if new in teams else new
        else:
            old, new = old or "—", new or "—"
        out.append(f'<li>{time_tag_in(entry.at, zone, chosen)} · {escape(entry.actor or text("history_system"))}: '
                   f'{escape(text(f"history_{kind}", old=old, new=new))}</li>\n')
    return Markup("".join(out))


@pass_context
def canned_items(context, number: int, canned, url_for) -> Markup:
    """A button per canned reply offered for the ticket: htmx adds the reply, rendered, to the reply box."""
    text, chosen = context["t"], _locale(context)
    return Markup("".join(
        f'<li><button type="button" class="button" '
        f'hx-post="{escape(url_for("agent.insert_canned", number=number, reply_id=reply.id))}"\n'
        f'  hx-include="#reply-message" hx-target="#reply-message" hx-swap="outerHTML" '
        f'aria-label="{escape(text("canned_insert", title=reply.title))}">{escape(_in(reply.title, chosen))}'
        f'</button></li>\n'
        for reply in canned))


@pass_context
def sla_items(context, targets) -> Markup:
    """The `<dt>`/`<dd>` of each SLA target of the ticket (engine.sla.ticket_targets): met (late), stopped, paused
    or running with the business time left, overdue."""
    text, snapshot, chosen = context["t"], _catalog(context), _locale(context)

    def left(target) -> str:
        return sla_left_in(snapshot, chosen, target.remaining).striptags()

    out = []
    for target in targets:
        if target.state == "met":
            shown = text("sla_state_met_late" if target.breached else "sla_state_met", at=target.local(target.met_at),
                         due=target.local(target.due_at))
        elif target.state == "stopped":
            shown = text("sla_state_stopped")
        elif target.state == "paused":
            shown = text("sla_state_paused", left=left(target))
        elif target.breached or (target.remaining is not None and target.remaining.total_seconds() <= 0):
            shown = text("sla_state_overdue", due=target.local(target.due_at))
        else:
            shown = text("sla_state_running", due=target.local(target.due_at), left=left(target))
        out.append(f'<dt>{escape(text(f"sla_target_{target.target}"))}</dt>\n'
                   f'<dd class="sla-{escape("breached" if target.breached else target.state)}">{escape(shown)}</dd>\n')
    return Markup("".join(out))


def _in(value, chosen: str):
    """A catalog value in the viewer's locale, as the environment's `finalize` shows it."""
    return value.in_(chosen) if isinstance(value, LocalText) else value


def reply_files_field() -> Markup:
    """The reply box's file field (_reply_files.html) with no error and no kept files, rendered once per catalog
    version and locale: the file policy and its texts come from the catalog alone."""
    return _reply_files.get((catalog().version, locale()),
                            lambda: Markup(render_template("_reply_files.html", errors={}, kept=())))


def _catalog(context):
    """The page's catalog snapshot: the template context's (one lookup) or the request's."""
    return context.get("catalog") or catalog()


def _locale(context) -> str:
    """The page's locale: the template context's (one lookup) or the request's."""
    return context.get("locale") or locale()


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(message_items=message_items, ticket_header=ticket_header, team_options=team_options,
                                 choice_form=choice_form, assignee_options=assignee_options, history_items=history_items,
                                 canned_items=canned_items, sla_items=sla_items, reply_files_field=reply_files_field)

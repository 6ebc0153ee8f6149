"""The agent console's search: words, whitelisted filters (the queue's team and assignee among them) and a
created-date range, results a page at a time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, render_template, request

from engine.ticket_search import MAX_QUERY_CHARS, SearchFilters, search_tickets
from engine.ticket_states import PRIORITIES
from web.agent.blueprint import bp
from web.agent.views import ASSIGNEE_FILTERS, STATUS_FILTERS, team_and_assignee_args
from web.auth import staff_required
from web.context import catalog, current_user, t, time_zone
from web.paging import cursor_args


@bp.get("/search")
@staff_required
def search():
    args = request.args
    text = args.get("q", "")
    status, priority = args.get("status", ""), args.get("priority", "")
    category_id, topic_id = args.get("category", ""), args.get("topic", "")
    if (status and status not in STATUS_FILTERS) or (priority and priority not in PRIORITIES):
        abort(400)
    if (category_id and catalog().category(category_id) is None) or \
            (topic_id and (not category_id or catalog().topic(f"{category_id}/{topic_id}") is None)):
        abort(400)
    team, assignee, chosen_teams = team_and_assignee_args(default_team="all")  # a search looks everywhere first
    chosen = {"q": text, "status": status, "priority": priority, "category": category_id, "topic": topic_id,
              "team": team, "assignee": assignee, "from": args.get("from", ""), "to": args.get("to", "")}
    start, end = _day(chosen["from"]), _day(chosen["to"])
    if start is False or end is False:
        return _render(chosen, None, t("search_bad_date"))
    filters = SearchFilters(
        statuses=STATUS_FILTERS[status] if status else (), priorities=(priority,) if priority else (),
        category_id=category_id, topic_id=topic_id, teams=chosen_teams, assignee=assignee,
        created_from=_midnight(start) if start else None,
        created_before=_midnight(end + timedelta(days=1)) if end else None,
    )
    result = search_tickets(current_user(), text, filters, **cursor_args())
    problem = t(result.problem, max=MAX_QUERY_CHARS) if result.problem else None
    return _render(chosen, result, problem)


def _render(chosen: dict, result, problem: str | None):
    template = "agent/_search_results.html" if request.htmx else "agent/search.html"
    return render_template(template, filters=chosen, result=result, problem=problem, status_filters=STATUS_FILTERS,
                           priorities=PRIORITIES, max_chars=MAX_QUERY_CHARS, assignee_filters=ASSIGNEE_FILTERS)


def _day(text: str) -> date | None | bool:
    """A YYYY-MM-DD date of the form; None when empty, False when it is no date."""
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10]) if len(text) == 10 else False
    except ValueError:
        return False


def _midnight(day: date) -> datetime:
    """The day's start in the viewer's zone: a date range means the viewer's days."""
    return datetime.combine(day, time(), ZoneInfo(time_zone()))

"""A list page's keyset paging in the web: the request's cursors (`after`/`before`) and the pager bar that writes them
into its links."""
from __future__ import annotations

from flask import Flask, request
from jinja2 import pass_context
from markupsafe import Markup, escape


def cursor_args() -> dict:
    """after=/before= of the request, for the engine's *_page functions (a mangled cursor shows the first page)."""
    return {"after": request.args.get("after") or None, "before": request.args.get("before") or None}


@pass_context
def pager(context, page, endpoint: str, target: str | None = None, **filters) -> Markup:
    """The template global `pager(page, endpoint, target=None, **filters)`: the range shown ("51–100 of 35 021") and
    keyset links to the previous/next page (engine.pagination.Page); `filters` (the list's) go into the links. With
    `target` (a CSS selector) htmx swaps only that element's content and pushes the URL. Nothing for an empty list.
    Python rather than a macro: a Jinja macro call cost twice what this does."""
    if not page.total:
        return Markup("")
    t, url_for = context.resolve("t"), context.resolve("url_for")
    total = f"{page.total:,}".replace(",", "\u00a0")
    out = [f'<nav class="pager" aria-label="{escape(t("pager_label"))}">\n'
           f'  <span class="pager-range">{escape(t("pager_shown", first=page.first, last=page.last, total=total))}'
           f'</span>\n']
    for rel, cursor, text in (("prev", page.previous, "pager_previous"), ("next", page.next, "pager_next")):
        if cursor:
            href = escape(url_for(endpoint, **{**filters, "before" if rel == "prev" else "after": cursor}))
            swap = (f' hx-get="{href}" hx-target="{escape(target)}" hx-swap="innerHTML" hx-push-url="true"'
                    if target else "")
            out.append(f'  <a rel="{rel}" href="{href}"{swap}>{escape(t(text))}</a>\n')
    out.append("</nav>")
    return Markup("".join(out))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["pager"] = pager

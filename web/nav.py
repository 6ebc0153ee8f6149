"""The header's navigation links, rendered once per (catalog version, locale, role, page) instead of on every page:
they depend on nothing else (the unread badge beside them is the signed-in user's own)."""
from __future__ import annotations

from flask import Flask, render_template, request
from markupsafe import Markup

from web.context import catalog, current_user, locale
from web.fragments import Remembered

MAX_NAVS = 2_000  # (version, locale, role, endpoint) entries kept

_rendered: Remembered[Markup] = Remembered(MAX_NAVS)


def nav_links() -> Markup:
    """The signed-in user's links (templates/_nav_links.html)."""
    key = (catalog().version, locale(), current_user().role, request.endpoint, request.blueprint, request.script_root)
    return _rendered.get(key, lambda: Markup(render_template("_nav_links.html")))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_links"] = nav_links

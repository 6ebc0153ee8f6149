"""base.html's shell (everything around a page's title and content) rendered once per key, then filled in.

The shell (templates/_shell.html) depends on the catalog version, the locale, the signed-in user's role, whether the
address-confirmation banner shows, the page (endpoint, blueprint, script root: header links, `aria-current`) and the
unread count beside the links. It only prints the CSRF token, the page's path (the locale switch's `next`) and the
user's name: the shell is rendered once per key with markers in their places and each request fills in its own
values, escaped as Jinja escapes them. A catalog reload brings a new version, so nothing is invalidated.
"""
from __future__ import annotations

from typing import Callable, Sequence

from flask import Flask, render_template, request
from jinja2 import pass_context
from markupsafe import Markup, escape

from web.fragments import Holed, Remembered, marker

MAX_SHELLS = 2_000  # shells kept; the least recently used go first
_TITLE, _CONTENT = Markup(marker(3)), Markup(marker(4))  # where base.html's blocks go (printed values are 0-2)

_shells: Remembered[tuple[Holed, Holed, Holed]] = Remembered(MAX_SHELLS)


def blocks(html: str) -> tuple[str, str, str]:
    """The shell's HTML before the title, between the title and the content, after the content."""
    head, rest = html.split(_TITLE)
    middle, tail = rest.split(_CONTENT)
    return head, middle, tail


def filled(key: tuple, printed: Sequence[str], render: Callable[[Callable[[int], str]], str]) -> tuple[Markup, ...]:
    """The shell `render(value_of)` makes, rendered once per `key` with markers for `printed`, then filled in."""
    parts = _shells.get(key, lambda: tuple(Holed(part) for part in blocks(render(lambda n: Markup(marker(n))))))
    escaped = [str(escape(value)) for value in printed]
    return tuple(part.fill(escaped) for part in parts)


@pass_context
def page_shell(ctx) -> tuple[Markup, ...]:
    """base.html's HTML before its title block, between its title and content blocks, after its content block."""
    user = ctx["current_user"]
    customer = user is not None and not user.is_staff
    unread = ctx["unread_count"]() if customer else 0
    unconfirmed = customer and user.email_verified_at is None
    page = request._get_current_object()  # one proxy lookup instead of four
    key = (ctx["catalog"].version, ctx["locale"], user.role if user is not None else None, unconfirmed, unread,
           page.endpoint, page.blueprint, page.script_root)
    printed = (ctx["csrf_token"](), page.full_path, (user.name or user.email) if user is not None else "")

    def render(value_of: Callable[[int], str]) -> str:
        return render_template("_shell.html", title=_TITLE, content=_CONTENT, csrf_token=lambda: value_of(0),
                               next_path=value_of(1), who=value_of(2), unread_count=lambda: unread)
    return filled(key, printed, render)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["page_shell"] = page_shell

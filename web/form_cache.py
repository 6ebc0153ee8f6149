"""A topic form's fields rendered once per catalog version, locale and topic while nothing is typed into them.

Every GET of a topic page shows the same empty fields; only a form sent back with values, errors or kept files is
rendered afresh. The catalog never changes under a version, so a reload needs no invalidation: new keys, and the
old ones leave with the oldest versions.
"""
from __future__ import annotations

from typing import Callable

from flask import request
from markupsafe import Markup

from web.context import catalog, locale
from web.fragments import Remembered

MAX_FORMS = 2_000  # (version, locale, topic) entries kept; the least recently shown go first

_rendered: Remembered[Markup] = Remembered(MAX_FORMS)


def topic_fields(topic, form, errors: dict, kept: dict, render: Callable[[], str]) -> Markup:
    """The form's field rows as `render()` makes them, remembered while the form is empty."""
    if errors or any(form.values.values()) or any(kept.values()):
        return Markup(render())
    return _rendered.get((catalog().version, locale(), topic.key, request.script_root), lambda: Markup(render()))

"""A topic form's fields rendered once per catalog version, locale and topic while nothing is typed into them.

Every GET of a topic page shows the same empty fields; only a form sent back with values, errors or kept files is
rendered afresh. The catalog never changes under a version, so a reload needs no invalidation: new keys, and the
old ones leave with the oldest versions.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from flask import request
from markupsafe import Markup

from web.context import catalog, locale

MAX_FORMS = 2_000  # (version, locale, topic) entries kept; the least recently shown go first

_rendered: OrderedDict[tuple, Markup] = OrderedDict()
_lock = threading.Lock()


def topic_fields(topic, form, errors: dict, kept: dict, render: Callable[[], str]) -> Markup:
    """The form's field rows as `render()` makes them, remembered while the form is empty."""
    if errors or any(form.values.values()) or any(kept.values()):
        return Markup(render())
    key = (catalog().version, locale(), topic.key, request.script_root)
    with _lock:
        html = _rendered.get(key)
        if html is not None:
            _rendered.move_to_end(key)
            return html
    html = Markup(render())
    with _lock:
        _rendered[key] = html
        while len(_rendered) > MAX_FORMS:
            _rendered.popitem(last=False)
    return html

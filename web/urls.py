"""`url_for` in templates, remembered: a page builds ~25 URLs, and the URL map never changes while the app runs."""
from __future__ import annotations

from flask import Flask, request

MAX_REMEMBERED = 10_000  # URLs with ticket numbers are unbounded: start over when this many are kept


def init_app(app: Flask) -> None:
    """Give templates a `url_for` that builds each (script root, endpoint, arguments) once."""
    build = app.url_for
    remembered: dict[tuple, str] = {}

    def url_for(endpoint: str, **values) -> str:
        if any(name.startswith("_") for name in values):  # _external, _anchor, ...: depend on more than the map
            return build(endpoint, **values)
        key = (request.script_root, request.blueprint if endpoint.startswith(".") else None, endpoint, *values.items())
        try:
            return remembered[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable argument
            return build(endpoint, **values)
        url = build(endpoint, **values)
        if len(remembered) >= MAX_REMEMBERED:
            remembered.clear()
        remembered[key] = url
        return url

    app.jinja_env.globals["url_for"] = url_for

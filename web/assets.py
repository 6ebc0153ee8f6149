"""Static assets: our CSS from web/static and htmx from the installed django-js-lib-htmx wheel (no CDN)."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

from flask import Blueprint, Flask, Response, request

bp = Blueprint("assets", __name__, static_folder="static", static_url_path="/static")

HTMX_RESOURCE = ("js_lib_htmx", "static/htmx/htmx.min.js")
ONE_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=1)
def htmx_source() -> tuple[bytes, str]:
    """htmx.min.js as shipped by the pinned wheel, with its content hash for cache busting."""
    package, path = HTMX_RESOURCE
    data = resources.files(package).joinpath(path).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:12]


@bp.get("/assets/htmx.min.js")
def htmx_js() -> Response:
    data, digest = htmx_source()
    response = Response(data, mimetype="text/javascript")
    response.set_etag(digest)
    response.cache_control.public = True
    response.cache_control.max_age = ONE_YEAR if request.args.get("v") == digest else 3600
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["htmx_version"] = lambda: htmx_source()[1]

"""The app's request class: htmx-flask's (`request.htmx`), made when first read, with the cookies read straight from
the WSGI environ and parsed once per distinct header."""
from __future__ import annotations

from flask import Request
from htmx_flask.requests import HtmxAwareRequest, HtmxHeaders
from werkzeug.http import parse_cookie
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property

MAX_HEADERS = 2_000  # Cookie headers remembered (a browser's changes with its session); start over when this many
_parsed: dict[str, ImmutableMultiDict] = {}


class PortalRequest(HtmxAwareRequest):
    def __init__(self, *args, **kwargs):
        Request.__init__(self, *args, **kwargs)  # HtmxAwareRequest's would build `htmx` for every request

    @cached_property
    def htmx(self) -> HtmxHeaders:
        """As HtmxAwareRequest's `htmx`: the request's htmx headers, true for an htmx request."""
        return HtmxHeaders(self.headers)

    @cached_property
    def cookies(self):
        """As werkzeug's `Request.cookies`, whose lookup of the one `HTTP_COOKIE` key walks every header of the
        environ (5% of an htmx fragment's time). A browser sends the same header again and again: the parsed,
        immutable cookies are shared by the requests that send it."""
        header = self.environ.get("HTTP_COOKIE", "")
        parsed = _parsed.get(header)
        if parsed is None:
            parsed = parse_cookie(header, cls=self.dict_storage_class)
            if len(_parsed) >= MAX_HEADERS:
                _parsed.clear()
            _parsed[header] = parsed
        return parsed

"""The keyset cursors of a list page's request (`after`/`before`, as the pager macro in _macros.html writes them)."""
from __future__ import annotations

from flask import request


def cursor_args() -> dict:
    """after=/before= of the request, for the engine's *_page functions (a mangled cursor shows the first page)."""
    return {"after": request.args.get("after") or None, "before": request.args.get("before") or None}

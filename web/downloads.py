"""Serve a stored attachment safely: always a download, never rendered inline by the browser."""
from __future__ import annotations

from flask import Response, abort, send_file

from engine.attachments import attachment_path
from engine.store.models import Attachment
from web.context import runtime

# Types a browser may show as-is when the user opens the download; everything else (html, svg, xml, js...) is opaque.
SAFE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv",
                        "application/zip", "audio/mpeg", "audio/ogg", "audio/x-wav"})


def send_attachment(attachment: Attachment) -> Response:
    path = attachment_path(runtime().settings, attachment)
    if not path.is_file():
        abort(404)
    mimetype = attachment.content_type if attachment.content_type in SAFE_TYPES else "application/octet-stream"
    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=attachment.original_name,
                         conditional=True, etag=attachment.sha256, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response

"""Serve a stored attachment safely: always a download, never rendered inline by the browser.

The content is streamed from the attachment store (local folder or S3) through the app, after the caller's access
check: no storage URL is ever handed out.
"""
from __future__ import annotations

from flask import Response, request, send_file

from engine.store.models import Attachment
from web.context import runtime

# Types a browser may show as-is when the user opens the download; everything else (html, svg, xml, js...) is opaque.
SAFE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv",
                        "application/zip", "audio/mpeg", "audio/ogg", "audio/x-wav"})


def send_attachment(attachment: Attachment) -> Response:
    """The file as a download (BlobNotFound -> 404, StorageUnavailable -> 503 by web.errors); ETag = its SHA-256."""
    blob = runtime().blobs.open(attachment.sha256)
    mimetype = attachment.content_type if attachment.content_type in SAFE_TYPES else "application/octet-stream"
    response = send_file(blob.stream, mimetype=mimetype, as_attachment=True, download_name=attachment.original_name,
                         conditional=False, max_age=0)
    response.call_on_close(blob.stream.close)  # also when a 304 or a range never reads it
    response.content_length = blob.size
    response.set_etag(attachment.sha256)
    response = response.make_conditional(request.environ, accept_ranges=True, complete_length=blob.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response

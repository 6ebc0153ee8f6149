"""Turn the request's multipart files into engine Uploads (names and contents are judged by the engine)."""
from __future__ import annotations

from flask import request

from engine.forms import Upload


def uploads_from(field_name: str) -> list[Upload]:
    """Every file sent under `field_name`; the empty part a browser sends for "no file chosen" is skipped."""
    files = []
    for storage in request.files.getlist(field_name):
        data = storage.read()
        if storage.filename or data:
            files.append(Upload(storage.filename or "", data, storage.mimetype or None))
    return files

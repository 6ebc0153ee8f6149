"""Uploaded files: checked by content (not by name); stored content-addressed by engine.blobstore, outside the web root."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field as dataclass_field
from typing import Sequence

import filetype

from engine.errors import InvalidValue

MAX_NAME_LENGTH = 120
MAX_EXTENSION_LENGTH = 16
TEXT_SNIFF_BYTES = 64 * 1024
TEXT_BYTES = b"\t\n\r\f" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))  # all but C0 controls and DEL

# Extensions whose content is plain text: the content decides "text", the name decides which text.
TEXT_EXTENSIONS = {
    "txt": "text/plain", "log": "text/plain", "csv": "text/csv", "json": "application/json",
    "xml": "application/xml", "svg": "image/svg+xml", "html": "text/html", "htm": "text/html", "md": "text/markdown",
}
EXTENSION_ALIASES = {"jpeg": "jpg", "jpe": "jpg", "tiff": "tif", "oga": "ogg", "opus": "ogg", "mid": "midi"}
# filetype reports these containers as what they are built on (a zip) when their inner marker is unusual.
CONTAINER_OF = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "application/zip",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "application/zip",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "application/zip",
    "application/vnd.oasis.opendocument.text": "application/zip",
    "application/vnd.oasis.opendocument.spreadsheet": "application/zip",
    "application/vnd.oasis.opendocument.presentation": "application/zip",
    "application/epub+zip": "application/zip",
    "image/png": "image/apng",
}
MIME_BY_EXTENSION = {t.extension: t.mime for t in reversed(filetype.TYPES)}


@dataclass(frozen=True)
class Upload:
    """A file as received by any channel; after check_uploads: sanitized name and content-detected type."""

    filename: str
    data: bytes = dataclass_field(repr=False)
    content_type: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _extension(name: str) -> str:
    ext = name.rsplit(".", 1)[1].lower() if "." in name.strip(".") else ""
    return EXTENSION_ALIASES.get(ext, ext)


def sanitize_filename(name: str, fallback_extension: str = "") -> str:
    """A display name: no directories, no control characters, at most 120 characters with the extension kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join("_" if ch in '<>:"|?*' else ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    name = name.strip().lstrip(".").strip()
    if not name:
        name = "file" + (f".{fallback_extension}" if fallback_extension else "")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= MAX_EXTENSION_LENGTH:
            name = stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_NAME_LENGTH].rstrip()
    return name


def is_text(data: bytes) -> bool:
    """Plain text in UTF-8 or a legacy 8-bit encoding (cp1251 CSV exports): no NUL or other binary control bytes."""
    return not data[:TEXT_SNIFF_BYTES].translate(None, TEXT_BYTES)


def detect_type(name: str, data: bytes) -> tuple[str, bool]:
    """The content type of `data` given the name it came with, and whether the name's extension contradicts it."""
    ext = _extension(name)
    declared = TEXT_EXTENSIONS.get(ext) or MIME_BY_EXTENSION.get(ext)
    kind = filetype.guess(data)
    if kind is not None:
        detected = kind.mime
        compatible = declared is None or declared == detected or CONTAINER_OF.get(declared) == detected
        return (declared if compatible and declared else detected), not compatible
    if is_text(data):
        if declared is None or ext in TEXT_EXTENSIONS:
            return declared or "text/plain", False
        return "text/plain", True
    return "application/octet-stream", declared is not None


def _allowed(content_type: str, name: str, allowed_types: Sequence[str]) -> bool:
    """Allowed entries are MIME types ('image/png', 'image/*') or extensions ('.pdf', 'pdf')."""
    ext = _extension(name)
    for entry in allowed_types:
        entry = entry.strip().lower()
        if entry == content_type or (entry.endswith("/*") and content_type.startswith(entry[:-1])):
            return True
        if "/" not in entry and ext and EXTENSION_ALIASES.get(entry.lstrip("."), entry.lstrip(".")) == ext:
            return True
    return False


def check_uploads(field, uploads: Sequence[Upload]) -> list[Upload]:
    """Check count, emptiness, size and type of a field's files; returns them sanitized, raises InvalidValue."""
    if len(uploads) > field.max_files:
        raise InvalidValue("too_many_files", max=field.max_files)
    limit = int(field.max_file_size_mb * 1024 * 1024)
    checked = []
    for upload in uploads:
        if not isinstance(upload, Upload) or not isinstance(upload.data, (bytes, bytearray)):
            raise InvalidValue("wrong_type")
        content_type, mismatch = detect_type(upload.filename or "", upload.data)
        kind = filetype.get_type(mime=content_type)
        name = sanitize_filename(upload.filename, fallback_extension=kind.extension if kind else "")
        if not upload.data:
            raise InvalidValue("file_empty", name=name)
        if len(upload.data) > limit:
            raise InvalidValue("file_too_big", name=name, max_mb=_mb(field.max_file_size_mb))
        if mismatch:
            raise InvalidValue("file_mismatch", name=name)
        if not _allowed(content_type, name, field.allowed_types):
            raise InvalidValue("file_type", name=name)
        checked.append(Upload(name, bytes(upload.data), content_type))
    return checked


def _mb(value: float) -> str:
    return f"{value:g}"

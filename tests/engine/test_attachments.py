"""Attachments: names sanitized for display, types decided by content, files stored under their hash (local store)."""
from __future__ import annotations

import os

import pytest

from engine.attachments import detect_type, is_text, sanitize_filename
from engine.blobstore import LocalBlobStore
from engine.errors import BlobNotFound
from tests.engine.samples import EXE, PDF, PNG

LONG_UNICODE = "отчёт-" * 50 + ".pdf"  # 304 characters


@pytest.mark.parametrize("raw, shown", [
    ("../x", "x"),
    ("..\\x", "x"),
    ("/etc/passwd", "passwd"),
    ("C:\\Windows\\system32\\cmd.exe", "cmd.exe"),
    ("a\x00b.png", "ab.png"),
    ("evil\u202egnp.exe", "evilgnp.exe"),
    ("line\r\nbreak.txt", "linebreak.txt"),
    ('<script>alert(1)</script>.png', "script_.png"),
    ('"><img src=x onerror=alert(1)>.png', "___img src=x onerror=alert(1)_.png"),
    ("..", "file"),
    ("", "file"),
    (".htaccess", "htaccess"),
    (LONG_UNICODE, ("отчёт-" * 50)[:116] + ".pdf"),
    ("x" * 300, "x" * 120),
])
def test_sanitize_filename(raw, shown):
    assert sanitize_filename(raw) == shown
    assert len(sanitize_filename(raw)) <= 120


def test_sanitized_long_name_keeps_its_extension():
    name = sanitize_filename("я" * 300 + ".docx")
    assert len(name) == 120 and name.endswith(".docx")


def test_empty_name_gets_the_detected_extension():
    assert sanitize_filename("../", fallback_extension="png") == "file.png"


@pytest.mark.parametrize("name, data, content_type, mismatch", [
    ("a.png", PNG, "image/png", False),
    ("a.PNG", PNG, "image/png", False),
    ("a.pdf", PDF, "application/pdf", False),
    ("photo.jpg", PNG, "image/png", True),
    ("setup.png", EXE, "application/x-msdownload", True),
    ("setup.exe", EXE, "application/x-msdownload", False),
    ("noext", EXE, "application/x-msdownload", False),
    ("notes.txt", "привет, мир".encode(), "text/plain", False),
    ("table.csv", b"a;b\n1;2\n", "text/csv", False),
    ("image.svg", b"<svg onload=alert(1)></svg>", "image/svg+xml", False),
    ("notes.png", b"just text", "text/plain", True),
    ("notes.txt", b"text\x00with NUL", "application/octet-stream", True),
    ("blob.bin", b"\xff\xfe\xfd\x00", "application/octet-stream", False),
    ("export.csv", "Сумма;Дата\r\n".encode("cp1251"), "text/csv", False),
])
def test_type_is_detected_by_content(name, data, content_type, mismatch):
    assert detect_type(name, data) == (content_type, mismatch)


@pytest.mark.parametrize("data, text", [
    (("я" * 40_000).encode(), True),  # the 64 KB sniff window ends inside a character
    ("Сумма;Дата\r\n100;01.12.2026\r\n".encode("cp1251"), True),  # a CSV exported by Excel in Russia
    (b"tab\tand\nnewline", True),
    (b"\xff\xfe" + "utf-16".encode("utf-16-le"), False),
    (b"ESC\x1b[31m", False),
    (b"\x7fELF", False),
])
def test_text_is_told_from_binary(data, text):
    assert is_text(data) is text


def test_blob_is_stored_under_its_hash_atomically(settings):
    store = LocalBlobStore(settings.attachments_dir)
    sha = store.put(PNG)
    path = store.path(sha)
    assert path.read_bytes() == PNG
    assert path.parent.parent == settings.attachments_dir and path.name == sha and path.parent.name == sha[:2]
    assert store.put(PNG) == sha  # idempotent: the same content is one file
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]


def test_blob_keys_are_only_digests(settings):
    store = LocalBlobStore(settings.attachments_dir)
    with pytest.raises(BlobNotFound):
        store.open("../../etc/passwd")
    assert not store.exists("../../etc/passwd")


def test_blob_store_is_outside_any_web_root(settings):
    """Files live under the data folder, never under web/static."""
    store = LocalBlobStore(settings.attachments_dir)
    sha = store.put(PDF)
    assert "static" not in store.path(sha).parts
    assert os.path.commonpath([store.path(sha), settings.data_dir]) == str(settings.data_dir)

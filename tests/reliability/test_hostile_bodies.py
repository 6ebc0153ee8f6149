"""Case 6 against the real server: huge, endless, many-part, aborted and stalled bodies are refused fast, leave no temp
files, and never stop other requests."""
from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path

import pytest
import requests

from engine.store.models import Attachment, Ticket
from tests.reliability.load import CSRF_RE, IDEM_RE, TICKET_VALUES, TOPIC_URL, Customer, live_server
from tests.web.helpers import PNG
from tests.waiting import HANG_CAP
from app.commands.web import SERVER_BODY_MARGIN

BOUNDARY = "hostile"


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """Temp files of waitress and werkzeug land here, so the test sees every one they leave behind."""
    path = tmp_path / "tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


def leftovers(tmp: Path) -> list[str]:
    """Files still in the private temp dir, and descriptors still open on (deleted) temp files there."""
    open_files = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(tmp)):
            open_files.append(target)
    return sorted(p.name for p in tmp.iterdir()) + open_files


def wait_clean(tmp: Path, timeout: float = HANG_CAP) -> list[str]:
    """Leftovers once the server had a moment to close the refused connection (the cap bounds a hang)."""
    deadline = time.monotonic() + timeout
    while (found := leftovers(tmp)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def head(customer: Customer, extra: str, path: str = TOPIC_URL) -> bytes:
    """Request headers of a signed-in customer posting multipart to the topic form (CSRF token in the header)."""
    page = customer.session.get(customer.base + path).text
    cookie = "; ".join(f"{k}={v}" for k, v in customer.session.cookies.items())
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nX-CSRFToken: {CSRF_RE.search(page).group(1)}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{extra}\r\n").encode()


def served_quickly(server) -> float:
    started = time.monotonic()
    assert requests.get(f"{server.url}/login", timeout=5).status_code == 200
    return time.monotonic() - started


def test_declared_1gb_bodies_are_refused_unread_while_others_are_served(server, customer, private_tmp):
    """Three clients announce 1 GB and start sending: each gets 413 at once; a normal page still loads fast."""
    sockets = []
    for _ in range(3):
        sock = socket.create_connection(server.address, timeout=5)
        started = time.monotonic()
        sock.sendall(head(customer, "Content-Length: 1073741824\r\n") + b"x" * 65536)
        assert sock.recv(64).startswith(b"HTTP/1.1 413") and time.monotonic() - started < 2
        sockets.append(sock)
    assert served_quickly(server) < 1
    for sock in sockets:
        sock.close()
    assert wait_clean(private_tmp) == []
    assert Ticket.select().count() == 0


def test_endless_chunked_body_is_cut_off_at_the_limit(app, server, customer, private_tmp):
    """No Content-Length to check up front: the server counts chunks and answers 413 once past the limit."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    sock = socket.create_connection(server.address, timeout=10)
    sock.sendall(head(customer, "Transfer-Encoding: chunked\r\n"))
    chunk, sent, started = b"x" * 65536, 0, time.monotonic()
    try:
        while sent < 4 * limit:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
    except OSError:  # the server closed the connection after refusing: what we want
        pass
    assert sent < limit + SERVER_BODY_MARGIN + 8 * 1024 * 1024  # waitress's own limit sits above the app's
    assert sock.recv(64).startswith(b"HTTP/1.1 413") and time.monotonic() - started < 10
    sock.close()
    assert served_quickly(server) < 1
    assert wait_clean(private_tmp) == []


def test_ten_thousand_form_parts_are_413_before_the_view(server, customer, private_tmp):
    parts = b"".join(b"--%s\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n1\r\n" % (BOUNDARY.encode(), i)
                     for i in range(10_000)) + b"--%s--\r\n" % BOUNDARY.encode()
    sock = socket.create_connection(server.address, timeout=10)
    started = time.monotonic()
    sock.sendall(head(customer, f"Content-Length: {len(parts)}\r\n") + parts)
    assert sock.recv(64).startswith(b"HTTP/1.1 413") and time.monotonic() - started < 2
    sock.close()
    assert served_quickly(server) < 1
    assert wait_clean(private_tmp) == [] and Ticket.select().count() == 0


def test_upload_aborted_halfway_leaves_no_ticket_file_or_temp_file(rt, server, customer, private_tmp):
    """A 5 MB attachment cut off after 3 MB (browser closed): nothing is stored, nothing stays behind."""
    page = customer.session.get(customer.base + TOPIC_URL).text
    fields = {**TICKET_VALUES, "_idem": IDEM_RE.search(page).group(1)}
    body = b"".join(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (BOUNDARY.encode(), k.encode(), v.encode()) for k, v in fields.items())
    body += (b"--%s\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"big.bin\"\r\n"
             b"Content-Type: application/octet-stream\r\n\r\n" % BOUNDARY.encode())
    total = len(body) + 5 * 1024 * 1024 + len(BOUNDARY) + 8
    sock = socket.create_connection(server.address, timeout=5)
    sock.sendall(head(customer, f"Content-Length: {total}\r\n") + body + b"\0" * (3 * 1024 * 1024))
    sock.close()
    assert served_quickly(server) < 1
    assert wait_clean(private_tmp) == []
    assert Ticket.select().count() == 0 and Attachment.select().count() == 0
    assert not rt.settings.attachments_dir.exists() or not any(rt.settings.attachments_dir.rglob("*"))


def test_a_large_legitimate_upload_leaves_no_temp_file_either(rt, server, customer, private_tmp):
    """A 3 MB screenshot is spooled to temp files on its way in (waitress, then werkzeug); all are gone afterwards."""
    page = customer.session.get(customer.base + TOPIC_URL).text
    data = {**TICKET_VALUES, "_csrf": CSRF_RE.search(page).group(1), "_idem": IDEM_RE.search(page).group(1)}
    png = PNG + b"\0" * (3 * 1024 * 1024)
    response = customer.session.post(customer.base + TOPIC_URL, data=data, files={"attachments": ("shot.png", png)},
                                     allow_redirects=False, timeout=30)
    assert response.status_code == 303
    assert Attachment.get().size == len(png)
    assert wait_clean(private_tmp) == []


def test_a_stalled_body_is_dropped_after_the_idle_timeout(app, private_tmp):
    """Headers promise 100 kB, 5 bytes come, then silence: the connection is closed (waitress sends no 408)."""
    with live_server(app, channel_timeout=1, cleanup_interval=1) as server:
        sock = socket.create_connection(server.address, timeout=10)
        sock.sendall(f"POST {TOPIC_URL} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                     "Content-Length: 100000\r\n\r\n--x\r\n".encode())
        started = time.monotonic()
        assert served_quickly(server) < 1
        assert sock.recv(64) == b"" and time.monotonic() - started < 5
        sock.close()
    assert wait_clean(private_tmp) == []

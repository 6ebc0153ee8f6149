"""Bot API calls over kept-alive HTTP/1.1 connections, kept per server root and shared by every thread.

A request goes out in one write (head and body together); the answer is read from a buffered reader: the status line,
the headers, then the body by Content-Length, by chunks, or until the server closes. That is all the Bot API (and a
proxy in front of it) needs, at about a quarter of the client CPU of urllib3 and http.client, whose header parsing
goes through `email.parser`: ~70 µs against ~270 µs for one sendMessage measured alone, and the bot makes ~1.5 calls
per update. h11 (the well-kept sans-I/O HTTP/1.1 parser) was measured in the same harness too: ~380 µs per call
against ~250 µs here and ~580 µs through urllib3 on a loaded machine, too little of a cut for the bot's 0.5x goal
(issue 13), hence this narrow reader, tested in tests/telegram/test_transport.py. An idle connection the server has closed is noticed before reuse (as urllib3 does: readable means
closed); a call is never sent twice: a failure is the caller's to retry.

telebot's calls come through `send` (its CUSTOM_REQUEST_SENDER: GET parameters in the query string, POST parameters
as a form body); `post_json` serves `channels.telegram.botapi` (JSON bodies: no per-byte percent-encoding of Cyrillic
text). Failures come out as requests' Timeout/ConnectionError, so callers classify them as before. Calls with files
and calls through a proxy keep telebot's own path (requests).
"""
from __future__ import annotations

import json
import socket
import ssl
import threading
from functools import cache
from urllib.parse import urlencode, urlsplit

import requests
from telebot import apihelper
from urllib3.util.wait import wait_for_read

POOL_SIZE = 32  # idle connections kept per Bot API server: the polling threads plus the chat workers
MAX_LINE = 65536  # bytes of a status or header line
MAX_HEADERS = 100


class Response:
    """What telebot reads of a response: status_code, reason, text, json()."""

    def __init__(self, status: int, reason: str | None, content: bytes):
        self.status_code, self.reason, self.content = status, reason or "", content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


class _BadAnswer(Exception):
    """The server closed the connection early or answered something that is not HTTP/1.x."""


@cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()  # the system's CAs, host names checked


class _Connection:
    def __init__(self, server: "_Server", connect_timeout: float | None):
        sock = socket.create_connection((server.host, server.port), timeout=connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if server.tls:
                sock = _tls().wrap_socket(sock, server_hostname=server.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.reader = sock.makefile("rb")

    def exchange(self, request: bytes, read_timeout: float | None) -> tuple[Response, bool]:
        """Send the request, read the answer; returns it and whether the connection may be used again."""
        self.sock.settimeout(read_timeout)
        self.sock.sendall(request)
        return _read_answer(self.reader)

    def closed_by_server(self) -> bool:
        """An idle connection the server has closed is readable (EOF); so is one with stray data: not reusable."""
        return wait_for_read(self.sock, timeout=0)

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def _read_answer(reader) -> tuple[Response, bool]:
    status_line = reader.readline(MAX_LINE)
    version, _, rest = status_line.partition(b" ")
    code, _, reason = rest.partition(b" ")
    if not version.startswith(b"HTTP/1.") or not code.isdigit():
        raise _BadAnswer("connection closed without an answer" if not status_line else "not an HTTP/1.x answer")
    length, chunked, close = None, False, version == b"HTTP/1.0"
    for _ in range(MAX_HEADERS):
        line = reader.readline(MAX_LINE)
        if line in (b"\r\n", b"\n"):
            break
        if not line.endswith(b"\n"):
            raise _BadAnswer("connection closed in the headers")
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = value.endswith(b"chunked")
        elif name == b"connection":
            close = value == b"close" or (close and value != b"keep-alive")
    else:
        raise _BadAnswer("too many headers")
    if chunked:
        body = _read_chunks(reader)
    elif length is not None:
        body = reader.read(length)
        if len(body) != length:
            raise _BadAnswer("connection closed in the body")
    else:  # delimited by the end of the connection
        body, close = reader.read(), True
    return Response(int(code), reason.strip().decode("latin-1"), body), not close


def _read_chunks(reader) -> bytes:
    parts = []
    while True:
        size_line = reader.readline(MAX_LINE)
        if not size_line.endswith(b"\n"):
            raise _BadAnswer("connection closed in a chunk")
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            while reader.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(parts)
        parts.append(reader.read(size))
        if len(parts[-1]) != size or reader.readline(MAX_LINE) not in (b"\r\n", b"\n"):
            raise _BadAnswer("connection closed in a chunk")


class _Server:
    """One server root: where to connect, the Host header, the idle connections."""

    def __init__(self, root: str):
        parts = urlsplit(root)
        self.tls = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port or (443 if self.tls else 80)
        self.host_header = parts.netloc.rpartition("@")[2]
        self.idle: list[_Connection] = []
        self.lock = threading.Lock()

    def connection(self, connect_timeout: float | None) -> _Connection:
        while True:
            with self.lock:
                conn = self.idle.pop() if self.idle else None
            if conn is None:
                return _Connection(self, connect_timeout)
            if not conn.closed_by_server():
                return conn
            conn.close()

    def keep(self, conn: _Connection) -> None:
        with self.lock:
            if len(self.idle) < POOL_SIZE:
                self.idle.append(conn)
                return
        conn.close()


_servers: dict[str, _Server] = {}
_servers_lock = threading.Lock()


def _server_and_target(url: str) -> tuple[_Server, str]:
    """The server of the URL's root (created on first use) and the request target (path and query)."""
    cut = url.find("/", url.find("//") + 2)
    root, target = (url, "/") if cut < 0 else (url[:cut], url[cut:])
    server = _servers.get(root)
    if server is None:
        with _servers_lock:
            server = _servers.setdefault(root, _Server(root))
    return server, target


def _request(method: str, url: str, timeout, body: bytes = b"", content_type: str = "") -> Response:
    """One request on a kept-alive connection to the URL's server; failures raised as requests' exceptions."""
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    server, target = _server_and_target(url)
    head = f"{method} {target} HTTP/1.1\r\nHost: {server.host_header}\r\n"
    if body or method == "POST":
        head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    try:
        conn = server.connection(connect)
    except TimeoutError as exc:  # the URL in the text as requests has it (logs redact the token)
        raise requests.exceptions.ConnectTimeout(f"{exc} (url: {url})") from exc
    except OSError as exc:
        raise requests.exceptions.ConnectionError(f"{exc} (url: {url})") from exc
    try:
        answer, reusable = conn.exchange(head.encode("latin-1") + b"\r\n" + body, read)
    except TimeoutError as exc:
        conn.close()
        raise requests.exceptions.ReadTimeout(f"{exc} (url: {url})") from exc
    except (OSError, ValueError, _BadAnswer) as exc:
        conn.close()
        raise requests.exceptions.ConnectionError(f"{exc} (url: {url})") from exc
    if reusable:
        server.keep(conn)
    else:
        conn.close()
    return answer


def post_json(url: str, params: dict, timeout: float) -> Response:
    """POST `params` as a JSON body (the Bot API takes JSON for every method without files)."""
    return _request("POST", url, timeout, json.dumps(params, ensure_ascii=False).encode(), "application/json")


def send(method: str, url: str, params: dict | None = None, files: dict | None = None, timeout=None, proxies=None):
    """apihelper.CUSTOM_REQUEST_SENDER: one call of telebot's."""
    if files or proxies:
        return apihelper._get_req_session().request(method, url, params=params, files=files, timeout=timeout,
                                                    proxies=proxies)
    fields = {k: v if isinstance(v, (str, bytes)) else str(v) for k, v in (params or {}).items() if v is not None}
    method = method.upper()
    if method == "GET":
        query = urlencode(fields)
        return _request("GET", f"{url}?{query}" if query else url, timeout)
    return _request(method, url, timeout, urlencode(fields).encode(), "application/x-www-form-urlencoded")


def install() -> None:
    """Route every TeleBot of this process through the kept-alive connections (idempotent)."""
    apihelper.CUSTOM_REQUEST_SENDER = send

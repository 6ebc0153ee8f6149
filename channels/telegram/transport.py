"""Bot API calls through kept-alive urllib3 connection pools, one per server root, shared by every thread.

telebot's calls come through `send` (its CUSTOM_REQUEST_SENDER): same wire format (GET parameters in the query
string, POST parameters as a form body), about half the client CPU of a requests session (which rebuilds and
re-quotes every URL). `post_json` serves `channels.telegram.botapi` (JSON bodies: no per-byte percent-encoding of
Cyrillic text). Failures come out as requests' Timeout/ConnectionError, so callers classify them as before. Calls
with files and calls through a proxy keep telebot's own path.
"""
from __future__ import annotations

import json
import threading
from urllib.parse import urlencode

import requests
import urllib3
from telebot import apihelper
from urllib3.exceptions import ConnectTimeoutError, HTTPError, ReadTimeoutError

POOL_SIZE = 32  # kept-alive connections per Bot API server: the polling threads plus the chat workers
JSON_HEADERS = {"Content-Type": "application/json"}

_pools: dict[str, urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()


class Response:
    """What telebot reads of a response: status_code, reason, text, json()."""

    def __init__(self, status: int, reason: str | None, content: bytes):
        self.status_code, self.reason, self.content = status, reason or "", content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


def _pool_and_path(url: str) -> tuple[urllib3.HTTPConnectionPool, str]:
    """The pool of the URL's server (created on first use) and the URL's path with its query."""
    cut = url.find("/", url.find("//") + 2)
    root, path = (url, "/") if cut < 0 else (url[:cut], url[cut:])
    pool = _pools.get(root)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(root) or urllib3.connection_from_url(root, maxsize=POOL_SIZE, retries=False)
            _pools[root] = pool
    return pool, path


def _request(method: str, url: str, timeout, **kw) -> Response:
    """One request on the server's pool; urllib3's failures raised as requests' exceptions."""
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    pool, path = _pool_and_path(url)
    try:
        answer = pool.urlopen(method, path, retries=False, redirect=False, assert_same_host=False,
                              timeout=urllib3.Timeout(connect=connect, read=read), **kw)
    except ConnectTimeoutError as exc:  # the URL in the text as requests has it (logs redact the token)
        raise requests.exceptions.ConnectTimeout(f"{exc} (url: {url})") from exc
    except ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(f"{exc} (url: {url})") from exc
    except HTTPError as exc:
        raise requests.exceptions.ConnectionError(f"{exc} (url: {url})") from exc
    return Response(answer.status, answer.reason, answer.data)


def post_json(url: str, params: dict, timeout: float) -> Response:
    """POST `params` as a JSON body (the Bot API takes JSON for every method without files)."""
    return _request("POST", url, timeout, body=json.dumps(params, ensure_ascii=False).encode(), headers=JSON_HEADERS)


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
    return _request(method, url, timeout, body=urlencode(fields),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})


def install() -> None:
    """Route every TeleBot of this process through the pools (idempotent)."""
    apihelper.CUSTOM_REQUEST_SENDER = send

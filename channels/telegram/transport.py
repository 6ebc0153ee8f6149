"""telebot's Bot API calls through one shared urllib3 pool instead of a requests session per thread.

Same wire format (GET parameters in the query string, POST parameters as a form body) and the same errors
(requests' Timeout/ConnectionError, so callers classify them as before); about half the client CPU per call
(requests rebuilds and re-quotes every URL). Calls with files and calls through a proxy keep telebot's own path.
"""
from __future__ import annotations

import json

import requests
import urllib3
from telebot import apihelper
from urllib3.exceptions import ConnectTimeoutError, HTTPError, ReadTimeoutError

POOL_SIZE = 32  # kept-alive connections per Bot API server: the polling threads plus the chat workers

_pool = urllib3.PoolManager(num_pools=8, maxsize=POOL_SIZE, retries=False)


class Response:
    """What telebot reads of a response: status_code, reason, text, json()."""

    def __init__(self, status: int, reason: str | None, content: bytes):
        self.status_code, self.reason, self.content = status, reason or "", content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


def send(method: str, url: str, params: dict | None = None, files: dict | None = None, timeout=None, proxies=None):
    """apihelper.CUSTOM_REQUEST_SENDER: one call; urllib3's failures raised as requests' exceptions."""
    if files or proxies:
        return apihelper._get_req_session().request(method, url, params=params, files=files, timeout=timeout,
                                                    proxies=proxies)
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    fields = {k: v if isinstance(v, (str, bytes)) else str(v) for k, v in (params or {}).items() if v is not None}
    try:
        if method.upper() == "GET":
            answer = _pool.request("GET", url, fields=fields, timeout=urllib3.Timeout(connect=connect, read=read))
        else:
            answer = _pool.request(method.upper(), url, fields=fields, encode_multipart=False,
                                   timeout=urllib3.Timeout(connect=connect, read=read))
    except ConnectTimeoutError as exc:  # the URL in the text as requests has it (logs redact the token)
        raise requests.exceptions.ConnectTimeout(f"{exc} (url: {url})") from exc
    except ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(f"{exc} (url: {url})") from exc
    except HTTPError as exc:
        raise requests.exceptions.ConnectionError(f"{exc} (url: {url})") from exc
    return Response(answer.status, answer.reason, answer.data)


def install() -> None:
    """Route every TeleBot of this process through the pool (idempotent)."""
    apihelper.CUSTOM_REQUEST_SENDER = send
